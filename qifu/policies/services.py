"""The policy calculator's services: the library's YAML form, matching (政策找人),
notifications and 免申即享 payouts. Views, the API and the `qifu policy` command all call these.

Matching runs the engine over all of a region's enterprises × its published clauses in force and
stores the difference (`qifu.policies.matches`) in one transaction; incremental re-matching follows one enterprise
(`rematch_enterprise`) or one clause (`rematch_clause`). Newly eligible enterprises are notified once.
"""

from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts.models import Role, User
from qifu.audit import trail
from qifu.enterprises.models import Enterprise
from qifu.org.models import Department, Region
from qifu.profiles import facts as profile_facts
from qifu.rules import clauses as cl
from qifu.rules import yamlio
from qifu.rules.values import RuleError, as_date, gettext_noop

from . import applications, matches, wording
from .models import (
    DEFAULT_REVIEW_DAYS,
    POLICY_EXTRA,
    EnterpriseMatches,
    MatchStatus,
    Payout,
    PayoutStatus,
    Policy,
    PolicyClause,
    PolicyStatus,
)

logger = logging.getLogger("qifu.policies")


def today() -> datetime.date:
    return timezone.localdate()


def _region(region_code: str) -> Region:
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise LookupError(f"no region with the code {region_code!r}")
    return region


def money(value) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 2)))


# --- YAML import / export -----------------------------------------------------------------------------

def _clause_fields(spec: cl.ClauseSpec, policy: cl.PolicySpec, order: int) -> dict:
    data = yamlio.clause_to_data(spec, policy)
    return {
        "title": spec.title, "description": spec.description, "contact": spec.contact,
        "conditions": data.get("conditions"), "benefit": data.get("benefit", ""),
        "no_application": spec.no_application,
        # Dates equal to the policy's are the policy's: stored empty, so they follow the policy.
        "effective_from": data.get("effective_from"), "effective_to": data.get("effective_to"),
        "apply_from": spec.apply_from, "apply_to": spec.apply_to,
        "review_days": int(spec.extra.get("review_days") or DEFAULT_REVIEW_DAYS),
        "materials": [str(m) for m in (spec.extra.get("materials") or [])], "sort_order": order,
    }


def import_yaml(text: str, region_code: str, *, actor=None, allowed=None) -> dict:
    """Create or update policies and clauses by code; all or nothing. Returns counts.

    New policies come in as drafts; a policy already published stays published and is re-matched.
    `allowed(region, department_codes)` (optional) may refuse the import before anything is written."""
    region = _region(region_code)
    # A stream, so the text is never taken for a file name (a body of "/etc/passwd" would be read).
    specs = yamlio.parse_policies(io.StringIO(text))
    departments = {d.code: d for d in Department.objects.filter(region=region)}
    for i, spec in enumerate(specs):
        if spec.department and spec.department not in departments:
            raise RuleError(gettext_noop("%(where)s: no department with the code %(code)r in %(region)s"),
                            where=f"policies[{i}]", code=spec.department, region=region.code)
        other = Policy.objects.filter(code=spec.code).exclude(region=region).first()
        if other is not None:
            raise RuleError(gettext_noop("%(where)s: the code %(code)s is used by a policy of region %(region)s"),
                            where=f"policies[{i}]", code=spec.code, region=other.region.code)
        if spec.extra.get("url") and not str(spec.extra["url"]).startswith(("http://", "https://")):
            raise RuleError(gettext_noop("%(where)s: url must start with http:// or https://"), where=f"policies[{i}]")
        for j, clause in enumerate(spec.clauses):
            taken = PolicyClause.objects.filter(code=clause.code).exclude(policy__code=spec.code).first()
            if taken is not None:
                raise RuleError(gettext_noop("%(where)s: the clause code %(code)s belongs to policy %(policy)s"),
                                where=f"policies[{i}].clauses[{j}]", code=clause.code, policy=taken.policy.code)
    if allowed is not None and not allowed(region, {s.department for s in specs if s.department}):
        raise PermissionError(_("You may not import these policies."))
    counts = {"policies": 0, "clauses": 0, "created": 0, "updated": 0}
    touched: list[Policy] = []
    with transaction.atomic():
        for spec in specs:
            values = {
                "region": region, "title": spec.title, "level": spec.level,
                "department": departments.get(spec.department), "source": spec.source,
                "effective_from": spec.effective_from, "effective_to": spec.effective_to,
                **{k: str(spec.extra.get(k) or "") for k in POLICY_EXTRA},
            }
            policy = Policy.objects.filter(code=spec.code).first()
            if policy is None:
                policy = Policy.objects.create(code=spec.code, created_by=_user(actor), **values)
                counts["created"] += 1
            else:
                for key, value in values.items():
                    setattr(policy, key, value)
                policy.save()
                counts["updated"] += 1
            keep = []
            for order, clause_spec in enumerate(spec.clauses):
                fields = _clause_fields(clause_spec, spec, order)
                PolicyClause.objects.update_or_create(policy=policy, code=clause_spec.code, defaults=fields)
                keep.append(clause_spec.code)
            gone = policy.clauses.exclude(code__in=keep)
            for clause in gone:
                if clause.payouts.exists() or clause.applications.exists():
                    raise RuleError(gettext_noop("%(where)s: the clause %(code)s has payouts or applications; "
                                                 "keep it in the file"), where=policy.code, code=clause.code)
            gone.delete()
            counts["policies"] += 1
            counts["clauses"] += len(spec.clauses)
            touched.append(policy)
        for policy in touched:
            if policy.is_published:
                rematch_policy(policy)
    return counts


def export_yaml(region_code: str) -> str:
    region = _region(region_code)
    policies = Policy.objects.filter(region=region).select_related("department").prefetch_related("clauses")
    return yamlio.dump_policies([p.spec() for p in policies.order_by("code")])


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# --- the library ----------------------------------------------------------------------------------

@transaction.atomic
def publish(policy: Policy, actor=None) -> MatchSummary:
    """Publish a policy: from now on enterprises see it and its clauses are matched."""
    for clause in policy.clauses.all():
        clause.spec()  # a clause the engine cannot read is never published
    policy.status = PolicyStatus.PUBLISHED
    policy.published_at = policy.published_at or timezone.now()
    policy.save()
    return rematch_policy(policy)


@transaction.atomic
def retire(policy: Policy, actor=None) -> None:
    policy.status = PolicyStatus.RETIRED
    policy.save()
    matches.store_clauses([], policy.region, list(policy.clauses.values_list("pk", flat=True)), timezone.now())


def after_clause_change(clause: PolicyClause) -> None:
    """Called whenever a clause is saved through the UI, the API or the admin."""
    rematch_clause(clause)


def after_policy_change(policy: Policy) -> None:
    rematch_policy(policy)


# --- matching (政策找人) ------------------------------------------------------------------------------

@dataclass
class MatchSummary:
    region: str
    enterprises: int
    clauses: int
    eligible: int
    unknown: int
    notified: int

    def __str__(self):
        return (f"{self.region}: {self.enterprises} enterprises × {self.clauses} clauses → {self.eligible} eligible, "
                f"{self.unknown} may qualify (data missing), {self.notified} enterprises notified")


_SPECS: dict[tuple, cl.ClauseSpec] = {}


def clause_spec(clause: PolicyClause) -> cl.ClauseSpec:
    """The clause's parsed spec, cached by version (the clause's and its policy's `updated_at`)."""
    key = (clause.pk, clause.updated_at, clause.policy_id, clause.policy.updated_at)
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) > 50_000:
            _SPECS.clear()
        spec = _SPECS[key] = clause.spec()
    return spec


def clauses_in_force(region: Region, on: datetime.date, only: QuerySet | None = None) -> list[tuple[PolicyClause, cl.ClauseSpec]]:
    qs = only if only is not None else PolicyClause.objects.all()
    qs = qs.filter(policy__region=region, policy__status=PolicyStatus.PUBLISHED).select_related(
        "policy", "policy__department")
    pairs = []
    for clause in qs:
        spec = clause_spec(clause)
        if spec.in_force(on):
            pairs.append((clause, spec))
    return pairs


_IN_FORCE: dict[tuple, list[tuple[int, cl.ClauseSpec]]] = {}


def specs_in_force(region: Region, on: datetime.date) -> list[tuple[int, cl.ClauseSpec]]:
    """(clause pk, spec) of the region's published clauses in force on `on`: one aggregate query when
    nothing changed since the last call (the list is cached by the clauses' and policies' count and
    latest `updated_at`), what re-matching one enterprise needs."""
    from django.db.models import Count, Max

    published = PolicyClause.objects.filter(policy__region=region, policy__status=PolicyStatus.PUBLISHED)
    stamp = published.aggregate(n=Count("pk"), c=Max("updated_at"), p=Max("policy__updated_at"))
    key = (region.pk, on, stamp["n"], stamp["c"], stamp["p"])
    found = _IN_FORCE.get(key)
    if found is None:
        if len(_IN_FORCE) > 100:
            _IN_FORCE.clear()
        found = _IN_FORCE[key] = [(clause.pk, spec) for clause, spec in clauses_in_force(region, on)]
    return found


OUTCOME_PHASES: dict[str, float] = {}  # seconds: the facts frame, the engine (of the last `_outcome`)


def _outcome_schema():
    import polars as pl

    return {"enterprise_id": pl.Int64, "clause_id": pl.Int64, "status": pl.String, "amount": pl.Float64,
            "missing_mask": pl.Int64}


CHUNK = 250_000  # enterprises per engine run: the outcome of a million × 1,000 never sits in memory at once


def _outcome(pairs, enterprises: QuerySet, on):
    """Every enterprise × clause evaluated by the vectorized engine: Polars frames of the eligible and
    unknown pairs (enterprise_id, clause_id, status, amount rounded to cents, missing_mask), one per
    `CHUNK` enterprises (`matches.store_*` encode each as it comes). The facts are read at once; the
    engine runs as the frames are consumed."""
    import importlib
    import time

    import polars as pl

    schema = _outcome_schema()
    if not pairs:
        return []
    try:
        batch = importlib.import_module("qifu.rules.batch")
    except ImportError:  # the vectorized engine is optional; the scalar engine gives the same answers
        rows = []
        for enterprise in enterprises.select_related("region", "jurisdiction").prefetch_related("tags"):
            facts = profile_facts.enterprise_facts(enterprise, on=on)
            rows.extend(r for r in (_row(enterprise.pk, clause.pk, spec, cl.evaluate(spec, facts, on))
                                    for clause, spec in pairs) if r is not None)
        return [pl.DataFrame(rows, schema=schema, orient="row")]
    pairs = sorted(pairs, key=lambda pair: pair[0].pk)  # the engine's output then comes in clause id order
    specs = [spec for _, spec in pairs]
    fields = set().union(*(s.fields() for s in specs))
    clock = time.perf_counter()
    frame = profile_facts.facts_frame(enterprises, fields=fields, on=on, only=True)
    OUTCOME_PHASES.clear()
    OUTCOME_PHASES["facts"] = time.perf_counter() - clock
    ids = {spec.code: clause.pk for clause, spec in pairs}
    by_position = pl.Series([ids[code] for code in dict.fromkeys(spec.code for spec in specs)], dtype=pl.Int64)

    def chunks():
        for i in range(0, frame.height, CHUNK):
            clock = time.perf_counter()
            result = batch.match_frame(specs, frame.slice(i, CHUNK), on, id_column="id", missing="mask")
            part = result.lazy().select(  # the clause column is an Enum of the codes in that order
                pl.col("id").cast(pl.Int64).alias("enterprise_id"),
                pl.lit(by_position).gather(pl.col("clause").to_physical()).alias("clause_id"),
                pl.col("status"), pl.col("amount").round(2), pl.col("missing_mask"),
            ).collect()
            del result
            OUTCOME_PHASES["engine"] = OUTCOME_PHASES.get("engine", 0) + time.perf_counter() - clock
            yield part  # the time the caller takes to write it is its own

    return chunks()


def _row(enterprise_id: int, clause_id: int, spec: cl.ClauseSpec, outcome: cl.Outcome) -> tuple | None:
    if outcome.eligible is False:
        return None
    status = MatchStatus.ELIGIBLE if outcome.eligible is True else MatchStatus.UNKNOWN
    return (enterprise_id, clause_id, str(status), outcome.amount,
            cl.encode_missing(outcome.missing, cl.field_order(spec)))


PHASES = matches.PHASES  # seconds per step of the last store (the benchmark prints them)


def _notify_fresh(region: Region, on, among=None) -> int:
    """Notify the eligible pairs nobody was told about yet of the region's enterprises with users (of
    those in `among`, when given)."""
    users = User.objects.filter(enterprise__region=region, is_active=True, role_grants__role=Role.ENTERPRISE)
    ids = set(users.values_list("enterprise_id", flat=True))
    if among is not None:
        ids &= set(among)
    ids = sorted(ids)
    rows = []
    for i in range(0, len(ids), 5000):
        rows += EnterpriseMatches.objects.filter(pk__in=ids[i:i + 5000])
    if not rows:
        return 0
    fresh = matches.fresh_eligible(rows)
    notified = _notify_eligible(fresh, on)
    told: dict[int, set[int]] = {}
    for match in fresh:
        if match.notified:
            told.setdefault(match.enterprise_id, set()).add(match.clause_id)
    matches.mark_notified(rows, told)
    return notified


def _enterprise_users(enterprise_ids) -> dict[int, list]:
    users: dict[int, list] = {}
    for user in User.objects.filter(enterprise_id__in=set(enterprise_ids), is_active=True,
                                    role_grants__role=Role.ENTERPRISE).distinct():
        users.setdefault(user.enterprise_id, []).append(user)
    return users


def _notify_eligible(rows: list[matches.Match], on) -> int:
    """One notification per enterprise listing the clauses it newly qualifies for, with the reasons; the
    pairs told about get `notified` set. Pairs of enterprises nobody can be told about stay un-notified
    (they will be told once someone can)."""
    if not rows:
        return 0
    from qifu.notify import notify

    users = _enterprise_users(r.enterprise_id for r in rows)
    by_enterprise: dict[int, list[matches.Match]] = {}
    for row in rows:
        if row.enterprise_id in users:
            by_enterprise.setdefault(row.enterprise_id, []).append(row)
    if not by_enterprise:
        return 0
    enterprises = Enterprise.objects.in_bulk(list(by_enterprise))
    url = reverse("my_policies")
    for enterprise_id, matched in by_enterprise.items():
        enterprise = enterprises[enterprise_id]
        facts = profile_facts.enterprise_facts(enterprise, on=on)
        lines = []
        for row in sorted(matched, key=lambda r: (r.clause.policy_id, r.clause.sort_order, r.clause.code)):
            explained = wording.explain(clause_spec(row.clause), facts, on, enterprise.region)
            amount = _("estimated %(amount)s yuan") % {"amount": f"{row.amount:,.2f}"} if row.amount else ""
            reason = "；".join(explained.reasons)
            lines.append(f"· {row.clause.title}（{row.clause.policy.title}）{' ' + amount if amount else ''}"
                         + (f"\n  {_('Why')}: {reason}" if reason else ""))
            row.notified = True
        if len(matched) == 1:
            subject = _("You qualify for a policy: %(title)s") % {"title": matched[0].clause.title}
        else:
            subject = _("You qualify for %(n)s policies") % {"n": len(matched)}
        notify(users[enterprise_id], "policy.eligible", subject, "\n".join(lines), url=url)
    return len(by_enterprise)


def match_region(region_code: str, on=None) -> MatchSummary:
    """Match all of the region's enterprises against all its published clauses in force; apply the
    difference to its matches."""
    region = _region(region_code)
    on = as_date(on) if on else today()
    pairs = clauses_in_force(region, on)
    enterprises = Enterprise.objects.filter(region=region)
    outcome = _outcome(pairs, enterprises, on)
    with transaction.atomic():
        counts = matches.store_region(outcome, region, timezone.now())
        notified = _notify_fresh(region, on)
        summary = MatchSummary(region.code, enterprises.count(), len(pairs), counts.get(MatchStatus.ELIGIBLE, 0),
                               counts.get(MatchStatus.UNKNOWN, 0), notified)
        trail.record("match", region, after={"eligible": summary.eligible, "unknown": summary.unknown,
                                             "clauses": summary.clauses}, note=str(summary))
    return summary


def _rematch_clauses(region: Region, clauses: QuerySet, on) -> MatchSummary:
    """All of the region's enterprises against `clauses` (those in force; the others' matches removed)."""
    pairs = clauses_in_force(region, on, only=clauses)
    enterprises = Enterprise.objects.filter(region=region)
    outcome = _outcome(pairs, enterprises, on)
    with transaction.atomic():
        counts = matches.store_clauses(outcome, region, list(clauses.values_list("pk", flat=True)), timezone.now())
        eligible = matches.enterprise_ids([clause for clause, _spec in pairs]) if pairs else set()
        notified = _notify_fresh(region, on, among=eligible) if eligible else 0
    return MatchSummary(region.code, enterprises.count(), len(pairs), counts.get(MatchStatus.ELIGIBLE, 0),
                        counts.get(MatchStatus.UNKNOWN, 0), notified)


def rematch_clause(clause: PolicyClause, on=None) -> MatchSummary:
    """Re-match one clause against all of its region's enterprises (after it changed or was published)."""
    on = as_date(on) if on else today()
    return _rematch_clauses(clause.policy.region, PolicyClause.objects.filter(pk=clause.pk), on)


def rematch_policy(policy: Policy, on=None) -> MatchSummary:
    on = as_date(on) if on else today()
    return _rematch_clauses(policy.region, PolicyClause.objects.filter(policy=policy), on)


def rematch_enterprise(enterprise: Enterprise, on=None) -> int:
    """Re-match one enterprise against its region's clauses in force (scalar engine, parsed clauses
    cached by version), after its data changed. Returns the number of eligible or unknown pairs."""
    on = as_date(on) if on else today()
    pairs = specs_in_force(enterprise.region, on)
    facts = profile_facts.enterprise_facts(enterprise, on=on) if pairs else {}
    rows = [r[1:] for r in (_row(enterprise.pk, pk, spec, cl.evaluate(spec, facts, on)) for pk, spec in pairs)
            if r is not None]
    with transaction.atomic():
        _counts, fresh = matches.store_enterprise(enterprise.pk, rows, timezone.now())
        if fresh:
            _notify_fresh(enterprise.region, on, among={enterprise.pk})
    return len(rows)


def rematch_enterprises(enterprise_ids, on=None) -> int:
    """Re-match many enterprises at once (after a profile import changed their data); vectorized.
    Returns the number of enterprises notified."""
    on = as_date(on) if on else today()
    ids = sorted({int(i) for i in enterprise_ids})
    notified = 0
    for region in Region.objects.filter(enterprises__pk__in=ids).distinct():
        enterprises = Enterprise.objects.filter(region=region, pk__in=ids)
        outcome = _outcome(clauses_in_force(region, on), enterprises, on)
        with transaction.atomic():
            matches.store_enterprises(outcome, list(enterprises.values_list("pk", flat=True)), timezone.now())
            notified += _notify_fresh(region, on, among=ids)
    return notified


# --- 免申即享: confirm from data, then pay ----------------------------------------------------------------

class PayoutError(ValueError):
    pass


def confirmable(clause: PolicyClause, only=None) -> list[matches.Match]:
    """Eligible enterprises of a no-application clause that have no payout yet, highest amount first: the
    list to confirm (`only`: just these enterprise ids)."""
    ids = matches.enterprise_ids([clause.pk])
    if only is not None:
        ids &= set(only)
    ids -= set(Payout.objects.filter(clause=clause).values_list("enterprise_id", flat=True))
    amounts = matches.amounts(clause.pk, ids)
    found = []
    id_list = sorted(ids)
    for i in range(0, len(id_list), 5000):
        for enterprise in Enterprise.objects.filter(pk__in=id_list[i:i + 5000]).select_related("jurisdiction"):
            if enterprise.pk in amounts:
                found.append(matches.Match(enterprise.pk, clause.pk, MatchStatus.ELIGIBLE, amounts[enterprise.pk],
                                           clause=clause, enterprise=enterprise))
    return sorted(found, key=lambda m: (m.amount is None, -(m.amount or 0), m.enterprise.name))


@transaction.atomic
def confirm_payouts(clause: PolicyClause, enterprise_ids, actor) -> list[Payout]:
    """The issuing department confirms some or all of the list: payouts approved without an application."""
    if not clause.no_application:
        raise PayoutError(_("This clause is granted by application, not from data."))
    if not clause.policy.is_published:
        raise PayoutError(_("Publish the policy first."))
    try:
        ids = {int(i) for i in enterprise_ids}
    except (TypeError, ValueError):
        ids = None
    if ids is not None and any(not 0 < i < 2**63 for i in ids):
        ids = None
    if ids is None:
        raise PayoutError(_("%(n)s of the chosen enterprises are not (or no longer) on the list.") % {
            "n": len(list(enterprise_ids))})
    if not ids:
        raise PayoutError(_("Choose at least one enterprise."))
    matches = {m.enterprise_id: m for m in confirmable(clause, only=ids)}
    unknown = ids - set(matches)
    if unknown:
        raise PayoutError(_("%(n)s of the chosen enterprises are not (or no longer) on the list.") % {"n": len(unknown)})
    now = timezone.now()
    payouts = []
    for enterprise_id, match in matches.items():
        if match.amount is None:
            raise PayoutError(_("The amount for %(name)s is not known yet.") % {"name": match.enterprise.name})
        payouts.append(Payout.objects.create(clause=clause, enterprise_id=enterprise_id, amount=match.amount,
                                             status=PayoutStatus.APPROVED, approved_by=_user(actor), approved_at=now))
    users = _enterprise_users(matches)
    from qifu.notify import notify

    for payout in payouts:
        if payout.enterprise_id in users:
            notify(users[payout.enterprise_id], "policy.payout_approved",
                   _("Granted without application: %(title)s") % {"title": clause.title},
                   _("%(amount)s yuan under %(policy)s, confirmed from your data. No application is needed.") % {
                       "amount": f"{payout.amount:,.2f}", "policy": clause.policy.title},
                   url=reverse("my_policies"))
    return payouts


@transaction.atomic
def record_payment(payout: Payout, actor, *, paid_amount, paid_on, reference: str = "") -> Payout:
    payout = Payout.objects.select_for_update().get(pk=payout.pk)
    if payout.status != PayoutStatus.APPROVED:
        raise PayoutError(_("This payout is already paid."))
    try:
        amount = Decimal(str(paid_amount).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise PayoutError(_("Give the amount paid.")) from None
    if amount <= 0:
        raise PayoutError(_("The amount paid must be more than zero."))
    if amount > payout.amount:
        raise PayoutError(_("The amount paid is more than the approved amount."))
    paid_on = as_date(paid_on) if paid_on else None
    if paid_on is None:
        raise PayoutError(_("Give the date of payment."))
    if paid_on > today():
        raise PayoutError(_("The date of payment cannot be in the future."))
    payout.status, payout.paid_amount, payout.paid_on = PayoutStatus.PAID, amount, paid_on
    payout.reference, payout.paid_by = (reference or "").strip(), _user(actor)
    payout.save()
    if payout.application_id:
        applications.mark_paid(payout.application, actor, payout)
    users = _enterprise_users([payout.enterprise_id])
    if payout.enterprise_id in users:
        from qifu.notify import notify

        notify(users[payout.enterprise_id], "policy.paid",
               _("Paid: %(title)s") % {"title": payout.clause.title},
               _("%(amount)s yuan paid on %(date)s.") % {"amount": f"{amount:,.2f}", "date": paid_on.isoformat()},
               url=reverse("my_policies"))
    return payout

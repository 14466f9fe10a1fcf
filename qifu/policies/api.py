"""/api/v1 — the policy library, matches, applications and payouts; scoped exactly like the pages.

An enterprise only ever sees its own matches, applications and payouts: anything else is 404.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from qifu.accounts import scopes
from qifu.api.pagination import Paginated, Rows
from qifu.api.schemas import Amount, EventOut, Id, Input, Text, Version, errors
from qifu.lib import inputs
from qifu.lib.inputs import max_length
from qifu.org.models import Region
from qifu.rules.values import RuleError

from . import access, applications, services
from .models import Application, ApplicationEvent, Payout, Policy, PolicyClause

router = Router(tags=["policies"])


class ClauseOut(Schema):
    id: int
    code: str
    title: str
    description: str
    conditions: dict | None
    benefit: str
    no_application: bool
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    apply_from: datetime.date | None
    apply_to: datetime.date | None
    review_days: int
    materials: list[str]
    contact: str


class PolicyOut(Schema):
    id: int
    code: str
    title: str
    level: str
    region: str
    department: str | None
    department_name: str | None
    issuer: str
    document_number: str
    url: str
    summary: str
    contact: str
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    status: str
    published_at: datetime.datetime | None


class PolicyDetailOut(PolicyOut):
    source: str
    clauses: list[ClauseOut]


class MatchOut(Schema):
    clause_id: int
    clause: str
    clause_title: str
    policy: str
    status: str
    amount: Decimal | None
    missing: list[str]
    missing_labels: list[str]
    no_application: bool
    computed_at: datetime.datetime


class PayoutOut(Schema):
    id: int
    clause: str
    clause_title: str
    enterprise_id: int
    enterprise_uscc: str
    application_id: int | None
    amount: Decimal
    status: str
    approved_at: datetime.datetime
    paid_amount: Decimal | None
    paid_on: datetime.date | None
    reference: str




class ApplicationOut(Schema):
    id: int
    clause: str
    clause_title: str
    enterprise_id: int
    enterprise_uscc: str
    status: str
    version: int
    submitted_at: datetime.datetime | None
    review_due: datetime.datetime | None
    workdays_left: float | None
    decided_at: datetime.datetime | None
    decision_note: str
    amount: Decimal | None
    materials: list[str]
    events: list[EventOut]


class ImportOut(Schema):
    policies: int
    clauses: int
    created: int
    updated: int


class ConfirmIn(Input):
    enterprise_ids: list[Id] = Field(..., max_length=10000)


class PayIn(Input):
    paid_amount: Amount
    paid_on: datetime.date
    reference: Text(max_length(Payout, "reference")) = ""


class ActionIn(Input):
    version: Version  # required: the version you loaded (another change since → 409)
    amount: Amount | None = None
    note: Text() = ""


def policy_out(p: Policy) -> dict:
    return {
        "id": p.pk, "code": p.code, "title": p.title, "level": p.level, "region": p.region.code,
        "department": p.department.code if p.department_id else None,
        "department_name": p.department.name if p.department_id else None, "issuer": p.issuer,
        "document_number": p.document_number, "url": p.url, "summary": p.summary, "contact": p.contact,
        "effective_from": p.effective_from, "effective_to": p.effective_to, "status": p.status,
        "published_at": p.published_at,
    }


def clause_out(c: PolicyClause) -> dict:
    return {k: getattr(c, k) for k in ("id", "code", "title", "description", "conditions", "benefit", "no_application",
                                       "effective_from", "effective_to", "apply_from", "apply_to", "review_days",
                                       "materials", "contact")}


def payout_out(p: Payout) -> dict:
    return {"id": p.pk, "clause": p.clause.code, "clause_title": p.clause.title, "enterprise_id": p.enterprise_id,
            "enterprise_uscc": p.enterprise.uscc, "application_id": p.application_id, "amount": p.amount,
            "status": p.status, "approved_at": p.approved_at, "paid_amount": p.paid_amount, "paid_on": p.paid_on,
            "reference": p.reference}


def application_out(a: Application) -> dict:
    return {
        "id": a.pk, "clause": a.clause.code, "clause_title": a.clause.title, "enterprise_id": a.enterprise_id,
        "enterprise_uscc": a.enterprise.uscc, "status": a.status, "version": a.version,
        "submitted_at": a.submitted_at, "review_due": a.review_due, "workdays_left": a.workdays_left(),
        "decided_at": a.decided_at, "decision_note": a.decision_note, "amount": a.amount,
        "materials": [m.name for m in a.materials.all()],
        "events": [{"seq": e.seq, "action": e.action, "actor": e.actor.username if e.actor_id else None, "at": e.at,
                    "from_status": e.from_status, "to_status": e.to_status, "note": e.note}
                   for e in a.events.all()],  # prefetched with the actor by _with_related
    }


def _application_error(e: applications.ApplicationError):
    raise HttpError(e.status_code, str(e))


# --- the library ----------------------------------------------------------------------------------

@router.get("/policies", response={200: list[PolicyOut], **errors(400)},
            summary="Policies you may see (enterprises: published only)")
@paginate(Paginated)
def list_policies(request, q: str | None = None, level: str | None = None, status: str | None = None):
    qs = access.policies(request.user).select_related("region", "department")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(code__icontains=q) | Q(document_number__icontains=q))
    if level:
        qs = qs.filter(level=level)
    if status:
        qs = qs.filter(status=status)
    return Rows(qs.order_by("code", "pk"), policy_out)


@router.get("/policies/{int:policy_id}", response={200: PolicyDetailOut, **errors(404)},
            summary="One policy with its clauses")
def get_policy(request, policy_id: int):
    policy = get_object_or_404(access.policies(request.user), pk=policy_id)
    return {**policy_out(policy), "source": policy.source, "clauses": [clause_out(c) for c in policy.clauses.all()]}


@router.post("/policies/import", response={200: ImportOut, **errors(400, 403)},
             summary="Import policies from a YAML body (staff); ?region=CODE, default your region",
             openapi_extra={"requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}}})
def import_policies(request, region: str | None = None):
    user = request.user
    if access.enterprise_only(user) or not user.roles:
        raise PermissionDenied(_("Only staff import policies."))
    allowed = scopes.regions(user)
    target = allowed.filter(code=region).first() if region else Region.objects.filter(
        pk=scopes.home_region_id(user)).first()
    if target is None:
        raise HttpError(400, _("Say which region (?region=CODE)."))
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HttpError(400, _("The body is not UTF-8 text.")) from None
    if inputs.has_nul(text):
        raise HttpError(400, inputs.nul_message())
    try:
        return services.import_yaml(text, target.code, actor=user,
                                    allowed=lambda r, depts: access.may_import(user, r, depts))
    except PermissionError as e:
        raise PermissionDenied(str(e)) from None
    except (RuleError, LookupError) as e:
        raise HttpError(400, str(e)) from None


# --- matches --------------------------------------------------------------------------------------

@router.get("/enterprises/{int:enterprise_id}/matches", response={200: list[MatchOut], **errors(400, 404)},
            summary="Clauses the enterprise qualifies (or may qualify) for; 404 outside your scope")
@paginate(Paginated)
def enterprise_matches(request, enterprise_id: int, status: str | None = None):
    enterprise = get_object_or_404(scopes.enterprises(request.user), pk=enterprise_id)
    from . import matches
    from .wording import labels

    known = labels(enterprise.region)
    return Rows(matches.for_enterprise(enterprise, status=status), lambda m: {
        "clause_id": m.clause_id, "clause": m.clause.code, "clause_title": m.clause.title,
        "policy": m.clause.policy.code, "status": m.status, "amount": m.amount, "missing": m.missing,
        "missing_labels": [known.get(c, c) for c in m.missing], "no_application": m.clause.no_application,
        "computed_at": m.computed_at}, bounded=True)


# --- applications ---------------------------------------------------------------------------------

_MATERIAL = {"type": "string", "format": "binary"}


@router.post("/clauses/{int:clause_id}/applications", response={201: ApplicationOut, **errors(400, 403, 404)},
             summary="Apply for a clause (enterprise users; multipart: note and one file per required material, "
                     "named material_0, material_1, … in the order of the clause's materials)",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "properties": {
                     "note": {"type": "string", "maxLength": inputs.TEXT_MAX},
                     **{f"material_{i}": _MATERIAL for i in range(4)}}}}}}})
def apply(request, clause_id: int):
    user = request.user
    clause = get_object_or_404(access.clauses(user), pk=clause_id)
    if not user.enterprise_id or not access.enterprise_only(user):
        raise PermissionDenied(_("Only an enterprise's own users apply."))
    files = {name: request.FILES.get(f"material_{i}") for i, name in enumerate(clause.materials)}
    try:
        application = applications.submit(clause, user.enterprise, user, files, note=request.POST.get("note", ""))
    except applications.ApplicationError as e:
        _application_error(e)
    return Status(201, application_out(application))


def _with_related(qs):
    """What application_out reads, fetched with the page (no query per row)."""
    return qs.select_related("clause", "clause__policy__region", "enterprise").prefetch_related(
        "materials", Prefetch("events", queryset=ApplicationEvent.objects.select_related("actor").order_by("seq")))


@router.get("/applications", response={200: list[ApplicationOut], **errors(400)}, summary="Applications you may see")
@paginate(Paginated)
def list_applications(request, status: str | None = None):
    qs = access.applications(request.user)
    if status:
        qs = qs.filter(status=status)
    return Rows(_with_related(qs).order_by("-id"), application_out)


@router.get("/applications/{int:application_id}", response={200: ApplicationOut, **errors(404)},
            summary="One application (404 outside)")
def get_application(request, application_id: int):
    return application_out(get_object_or_404(_with_related(access.applications(request.user)), pk=application_id))


@router.post("/applications/{int:application_id}/actions/{action}", response={200: ApplicationOut,
             **errors(400, 403, 404, 409)}, summary="Review: start_review, approve (amount, note), reject (note); "
                                                    "`version` required")
def act(request, application_id: int, action: str, body: ActionIn):
    get_object_or_404(access.applications(request.user), pk=application_id)
    payload = {"note": body.note}
    if body.amount is not None:
        payload["amount"] = body.amount
    try:
        applications.perform(application_id, action, request.user, body.version, **payload)
    except applications.ApplicationError as e:
        _application_error(e)
    return application_out(_with_related(access.applications(request.user)).get(pk=application_id))


# --- payouts --------------------------------------------------------------------------------------

@router.get("/payouts", response={200: list[PayoutOut], **errors(400)},
            summary="Payouts you may see (enterprises: their own)")
@paginate(Paginated)
def list_payouts(request, clause: str | None = None, status: str | None = None):
    qs = access.payouts(request.user).select_related("clause", "enterprise")
    if clause:
        qs = qs.filter(clause__code=clause)
    if status:
        qs = qs.filter(status=status)
    return Rows(qs.order_by("-id"), payout_out)


@router.post("/clauses/{int:clause_id}/payouts", response={201: list[PayoutOut], **errors(400, 403, 404)},
             summary="免申即享: confirm eligible enterprises of a no-application clause (issuing department)")
def confirm(request, clause_id: int, body: ConfirmIn):
    clause = get_object_or_404(access.clauses(request.user), pk=clause_id)
    if not access.may_maintain(request.user, clause.policy):
        raise PermissionDenied(_("Only the issuing department confirms this list."))
    try:
        payouts = services.confirm_payouts(clause, body.enterprise_ids, request.user)
    except services.PayoutError as e:
        raise HttpError(400, str(e)) from None
    return Status(201, [payout_out(p) for p in payouts])


@router.post("/payouts/{int:payout_id}/pay", response={200: PayoutOut, **errors(400, 403, 404)},
             summary="Record the payment of a payout")
def pay(request, payout_id: int, body: PayIn):
    payout = get_object_or_404(access.payouts(request.user), pk=payout_id)
    if not access.may_maintain(request.user, payout.clause.policy):
        raise PermissionDenied(_("Only the issuing department records payments."))
    try:
        payout = services.record_payment(payout, request.user, paid_amount=body.paid_amount, paid_on=body.paid_on,
                                         reference=body.reference)
    except (services.PayoutError, applications.ApplicationError) as e:
        raise HttpError(400, str(e)) from None
    return payout_out(payout)

"""Check every hash chain (`qifu audit verify`): the audit trail and each subject's events.

The check reads a consistent picture: on PostgreSQL one REPEATABLE READ READ ONLY transaction; on SQLite
the audit trail up to the head read first (entries linked later lie beyond it) and, for the events, the
subjects' versions compared in one statement. It reads in pages (keyset), so writers are never held up
for long and memory stays flat.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from . import chain, protect

PAGE = 5000


@dataclass
class Report:
    """What one chain (or family of chains) looked like."""

    name: str
    count: int = 0
    subjects: int = 0
    head: tuple[int, str] | None = None
    problems: list[str] = field(default_factory=list)
    kind: str = "audit"


@contextmanager
def _snapshot(using: str):
    connection = connections[using]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
    else:
        yield


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def verify_audit(using: str = "default", anchors: dict[int, str] | None = None) -> Report:
    from django.contrib.contenttypes.models import ContentType

    from .models import AuditEntry, ChainHead

    anchors = dict(anchors or {})
    report = Report(name=capfirst(AuditEntry._meta.verbose_name_plural))
    problems = report.problems
    head = ChainHead.objects.using(using).filter(name=chain.AUDIT_CHAIN).first()
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.using(using).all()}
    entries = AuditEntry.objects.using(using).filter(chain_seq__isnull=False)
    if head is not None:
        entries = entries.filter(chain_seq__lte=head.seq)  # on SQLite: linked after the head was read
    columns = ("id", "chain_seq", "digest", "prev_hash", "hash", *chain.AUDIT_FIELDS)
    expected, prev_hash, prev_id, last_seq = 1, chain.GENESIS, None, 0
    while True:
        page = list(entries.filter(chain_seq__gte=expected).order_by("chain_seq").values(*columns)[:PAGE])
        if not page:
            break
        for row in page:
            seq, pk = row["chain_seq"], row["id"]
            if seq != expected:
                problems.append(_("Audit entries were removed: position %(span)s is missing, before entry %(id)s "
                                  "(position %(seq)s).") % {"span": _span(expected, seq - 1), "id": pk, "seq": seq})
            elif row["prev_hash"] != prev_hash and prev_id is not None:
                problems.append(_("Audit entry %(id)s (position %(seq)s) was changed: the entry after it no longer "
                                  "links to it.") % {"id": prev_id, "seq": seq - 1})
            elif row["prev_hash"] != prev_hash:
                problems.append(_("Audit entry %(id)s (position %(seq)s) was changed: it does not start the chain.")
                                % {"id": pk, "seq": seq})
            if chain.audit_row_digest(row, labels) != row["digest"]:
                problems.append(_("Audit entry %(id)s (position %(seq)s) was changed: its content no longer "
                                  "matches its hash.") % {"id": pk, "seq": seq})
            elif chain.safe_link(row["prev_hash"], row["digest"]) != row["hash"]:
                problems.append(_("Audit entry %(id)s (position %(seq)s) was changed: its hash is not that of "
                                  "its content and the entry before it.") % {"id": pk, "seq": seq})
            if seq in anchors and anchors.pop(seq) != row["hash"]:
                problems.append(_("Position %(seq)s (entry %(id)s) no longer has the hash recorded for it: the "
                                  "audit trail was rewritten up to there.") % {"seq": seq, "id": pk})
            expected, prev_hash, prev_id, last_seq = seq + 1, row["hash"], pk, seq
            report.count += 1
    for seq in sorted(anchors):
        problems.append(_("Position %(seq)s, recorded earlier, is no longer in the audit trail.") % {"seq": seq})
    if head is None:
        if report.count:
            problems.append(_("The head of the audit trail's chain is missing."))
    elif head.seq > last_seq:
        problems.append(_("The newest audit entries were removed: the chain ends at position %(last)s, its head "
                          "says %(head)s.") % {"last": last_seq, "head": head.seq})
    elif head.hash != prev_hash:
        problems.append(_("Audit entry %(id)s (position %(seq)s), the newest, was changed: it no longer matches "
                          "the chain's head.") % {"id": prev_id, "seq": last_seq})
    if head is not None:
        report.head = (head.seq, head.hash)
        if connections[using].vendor == "postgresql":  # one snapshot: nothing can lie beyond the head
            beyond = AuditEntry.objects.using(using).filter(chain_seq__gt=head.seq).order_by("chain_seq").first()
            if beyond is not None:
                problems.append(_("Audit entry %(id)s (position %(seq)s) lies beyond the chain's head.")
                                % {"id": beyond.pk, "seq": beyond.chain_seq})
    unlinked = AuditEntry.objects.using(using).filter(hash__isnull=True).order_by("id").first()
    if unlinked is not None:
        problems.append(_("Audit entry %(id)s is not linked into the chain.") % {"id": unlinked.pk})
    return report


def _subject_name(model, pk) -> str:
    obj = model._default_manager.filter(pk=pk).first()
    return getattr(obj, "number", None) or f"#{pk}"


def verify_events(model, using: str = "default") -> Report:
    """Every subject's chain of events of `model` (a TransitionEvent table), and each subject's version."""
    subject = chain.subject_field(model)
    subject_model = model._meta.get_field(subject).related_model
    key = subject + "_id"
    kind, noun = capfirst(model._meta.verbose_name), str(subject_model._meta.verbose_name)
    report = Report(name=capfirst(model._meta.verbose_name_plural), kind="events")
    problems = report.problems

    def where(sid, seq):
        return {"kind": kind, "subject": noun, "name": _subject_name(subject_model, sid), "seq": seq}

    columns = ("id", key, "digest", "prev_hash", "hash", *chain.EVENT_FIELDS)
    rows = model._default_manager.using(using).order_by(key, "seq")
    last, current, expected, prev_hash, prev_id = (0, 0), None, 1, chain.GENESIS, None
    while True:
        page = list(rows.filter(**{f"{key}__gte": last[0]}).exclude(**{key: last[0], "seq__lte": last[1]})
                    .values(*columns)[:PAGE])
        if not page:
            break
        for row in page:
            sid, seq, pk = row[key], row["seq"], row["id"]
            if sid != current:
                current, expected, prev_hash, prev_id = sid, 1, chain.GENESIS, None
                report.subjects += 1
            if seq != expected:
                problems.append(_("%(kind)s of %(subject)s %(name)s: step %(span)s was removed.")
                                % {**where(sid, seq), "span": _span(expected, seq - 1)})
            elif row["prev_hash"] != prev_hash and prev_id is not None:
                problems.append(_("%(kind)s %(id)s (%(subject)s %(name)s, step %(seq)s) was changed: the step after "
                                  "it no longer links to it.") % {**where(sid, seq - 1), "id": prev_id})
            elif row["prev_hash"] != prev_hash:
                problems.append(_("%(kind)s %(id)s (%(subject)s %(name)s, step %(seq)s) was changed: it does not "
                                  "start the chain.") % {**where(sid, seq), "id": pk})
            if row["digest"] is None:
                problems.append(_("%(kind)s %(id)s (%(subject)s %(name)s, step %(seq)s) is not linked into the "
                                  "chain.") % {**where(sid, seq), "id": pk})
            elif chain.event_row_digest(model, row, sid) != row["digest"]:
                problems.append(_("%(kind)s %(id)s (%(subject)s %(name)s, step %(seq)s) was changed: its content no "
                                  "longer matches its hash.") % {**where(sid, seq), "id": pk})
            elif chain.safe_link(row["prev_hash"], row["digest"]) != row["hash"]:
                problems.append(_("%(kind)s %(id)s (%(subject)s %(name)s, step %(seq)s) was changed: its hash is not "
                                  "that of its content and the step before it.") % {**where(sid, seq), "id": pk})
            expected, prev_hash, prev_id = seq + 1, row["hash"], pk
            report.count += 1
        last = (page[-1][key], page[-1]["seq"])
    if any(f.name == "version" for f in subject_model._meta.concrete_fields):
        # a subject's version is its last step: removing the newest events leaves it pointing past them
        newest = model._default_manager.filter(**{subject: OuterRef("pk")}).order_by("-seq").values("seq")[:1]
        mismatched = (subject_model._default_manager.using(using)
                      .annotate(last_step=Coalesce(Subquery(newest), 0)).exclude(version=F("last_step"))
                      .order_by("pk").values_list("pk", "version", "last_step"))
        for sid, version, last_step in mismatched:
            if version > last_step:
                problems.append(_("The newest %(events)s of %(subject)s %(name)s were removed: it is at version "
                                  "%(version)s, its last event is step %(step)s.")
                                % {**where(sid, last_step), "events": model._meta.verbose_name_plural,
                                   "version": version,
                                   "step": last_step})
            else:
                problems.append(_("%(subject)s %(name)s is at version %(version)s but its last event is step "
                                  "%(step)s.") % {**where(sid, last_step), "subject": capfirst(noun), "version": version,
                                                  "step": last_step})
    return report


def trigger_problems(using: str = "default") -> list[str]:
    states = {"missing": _("missing"), "disabled": _("disabled")}
    return [_("The protection %(trigger)s of table %(table)s is %(state)s.")
            % {"trigger": trigger, "table": table, "state": states[state]}
            for table, trigger, state in protect.trigger_problems(connections[using])]


def verify_all(using: str = "default", anchors: dict[int, str] | None = None) -> tuple[list[Report], list[str]]:
    """(a report per chain, the protections not in force)."""
    with _snapshot(using):
        reports = [verify_audit(using, anchors)]
        reports += [verify_events(model, using) for model in protect.append_only_models()[1:]]
        return reports, trigger_problems(using)

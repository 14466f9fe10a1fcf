"""Reading appeals: filters, the enterprise an intake is for, and the shape pages and API show."""

import re
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import BooleanField, F, Func, OuterRef, Q, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.enterprises.models import Enterprise
from qifu.lib import fastselect
from qifu.lib import uscc as uscc_lib

from . import workflow
from .models import CLOCK_STATUSES, FALLBACK_CATEGORIES, Appeal, Rating


def with_related(qs):
    return qs.select_related("region", "enterprise", "channel", "lead_department", "section", "received_node") \
        .prefetch_related("assisting_departments")


def with_satisfaction(qs):
    """`latest_stars`: the stars of each appeal's latest rating (好差评), None when not rated."""
    latest = Rating.objects.filter(appeal=OuterRef("pk")).order_by("-rated_at", "-pk")
    return qs.annotate(latest_stars=Subquery(latest.values("stars")[:1]))


def filtered(qs, *, status=None, category=None, lead_department=None, section=None, node=None, overdue=None,
             enterprise_uscc=None, channel=None, q=None, abnormal=None, escalation_level=None, fallback=None,
             received_after=None, received_before=None, closed_after=None, closed_before=None, created_by=None):
    """The appeals of `qs` that pass every filter given. `received_after` (inclusive) and `received_before`
    (exclusive) are aware datetimes (a naive one or one out of range: InputError, 400); so are `closed_after` and
    `closed_before`: closed (a closing event) in that time, the statistics' `closed`. `created_by`: registered by
    that user."""
    if closed_after is not None or closed_before is not None:
        from .stats import closed_ids

        qs = qs.filter(pk__in=closed_ids(
            _aware(closed_after, "closed_after") if closed_after is not None else None,
            _aware(closed_before, "closed_before") if closed_before is not None else None))
    if created_by is not None:
        qs = qs.filter(created_by=created_by)
    if received_after is not None:
        qs = qs.filter(received_at__gte=_aware(received_after, "received_after"))
    if received_before is not None:
        qs = qs.filter(received_at__lt=_aware(received_before, "received_before"))
    if status:
        qs = qs.filter(status__in=status.split(","))
    if category:
        qs = qs.filter(category=category)
    if lead_department:
        qs = qs.filter(lead_department__code=lead_department)
    if section:
        qs = qs.filter(section__code=section)
    if node:
        qs = qs.filter(received_node__code=node)
    if channel:
        qs = qs.filter(channel__code=channel)
    if enterprise_uscc:
        qs = qs.filter(enterprise__uscc=uscc_lib.normalize(enterprise_uscc))
    if q:
        qs = qs.filter(_search(qs, q))
    if overdue is True:
        qs = qs.filter(status__in=CLOCK_STATUSES, due_at__lt=timezone.now())
    elif overdue is False:
        qs = qs.exclude(status__in=CLOCK_STATUSES, due_at__lt=timezone.now())
    if escalation_level:
        qs = qs.filter(escalation_level=escalation_level)
    if fallback is True:
        qs = qs.filter(category__in=FALLBACK_CATEGORIES)
    elif fallback is False:
        qs = qs.exclude(category__in=FALLBACK_CATEGORIES)
    if abnormal:
        from qifu.supervision import records

        qs = records.abnormal(qs, abnormal)
    return qs


# The enterprises whose name contains `q` are read first and given to the appeals' query as a list of ids (an
# index condition the planner can OR with the text's index); more than this many: a subquery (slower, rare).
NAMED_IDS_MAX = 2000


class BigramsContain(Func):
    """`qifu_bigrams(column…) @> qifu_bigrams(text)` (PostgreSQL, migration appeals/0009): the columns hold every
    pair of adjacent characters of `text` (upper-cased) — true for any row whose column contains `text`, so it
    narrows the rows by a GIN index and icontains decides (for a two-character `text` it is the same condition).
    `text` needs two characters or more."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        *columns, text = self.source_expressions
        sqls, params = [], []
        for expression in (*columns, text):
            sql, p = compiler.compile(expression)
            sqls.append(sql)
            params.extend(p)
        return f"qifu_bigrams({', '.join(sqls[:-1])}) @> qifu_bigrams(({sqls[-1]})::text)", params


# PREFIX-YYYYMMDD-NNNN (models.AppealNumber): searched as the number itself, not as a part of titles and names
WHOLE_NUMBER = re.compile(r"^[A-Za-z0-9]{1,16}-[0-9]{8}-[0-9]{4,}$")


def _search(qs, q: str) -> Q:
    """Titles or numbers containing `q`, or appeals of an enterprise whose name contains it (icontains, as it
    always was). On PostgreSQL, with two characters or more, the bigram indexes find the candidates."""
    from qifu.enterprises.models import Enterprise

    if WHOLE_NUMBER.match(q):  # a whole appeal number (e.g. QT-20261121-0007): that appeal, by the unique index
        return Q(number=q) | Q(number=q.upper())
    indexed = connections[qs.db].vendor == "postgresql" and len(q) >= 2
    text = Q(title__icontains=q) | Q(number__icontains=q)
    named = Enterprise.objects.filter(name__icontains=q)
    if indexed:
        bigrams = Q(BigramsContain(F("title"), F("number"), Value(q)))
        # two characters: the pair is in the title's or the number's pairs exactly when one contains q (both
        # upper-cased, as icontains compares) — the pairs alone decide, and the planner estimates them well
        # (with icontains besides, it guesses a handful of rows and sorts 40,000 of them for the first page)
        # longer: icontains first — the first page walks the list's order and PostgreSQL evaluates an AND from the
        # left, so the costly pairs are only computed where the cheap LIKE already holds
        text = bigrams if len(q) == 2 else text & bigrams
        named = named.filter(BigramsContain(F("name"), Value(q)))
    ids = list(named.order_by().values_list("pk", flat=True)[:NAMED_IDS_MAX + 1])
    if len(ids) > NAMED_IDS_MAX:
        return text | Q(enterprise_id__in=named.values("pk"))
    return text | Q(enterprise_id__in=ids) if ids else text


def _aware(value, name: str):
    """An aware datetime the database can hold, in UTC."""
    import datetime

    from qifu.lib.inputs import InputError

    if not isinstance(value, datetime.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InputError(_("%(field)s: give a date and time with its time zone (ISO 8601, e.g. "
                           "2026-10-01T00:00:00+08:00).") % {"field": name})
    try:
        moment = value.astimezone(datetime.timezone.utc)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not 1900 <= moment.year <= 9998:
        raise InputError(_("%(field)s: the time is out of range.") % {"field": name})
    return moment


def enterprise_for_intake(user, code: str | None):
    """The enterprise an appeal is filed for: one the user may see (an enterprise user: its own). Read with its
    region by one statement built once (`fastselect`), the scope checked by `scopes.sees_enterprise`."""
    if not code:
        if user.enterprise_id and scopes.sees_enterprise(user, user.enterprise):
            return user.enterprise
        raise workflow.TransitionError(_("Say which enterprise (enterprise_uscc)."))
    problem = uscc_lib.problem(code)
    if problem:
        raise workflow.TransitionError(problem)
    enterprise = fastselect.first(Enterprise, "t.uscc = %s", [uscc_lib.normalize(code)], related=("region",))
    if not scopes.sees_enterprise(user, enterprise):
        if user.has_role("enterprise") and not (user.roles & scopes.STAFF_ROLES):
            raise PermissionDenied(_("An enterprise files appeals for itself only."))
        raise workflow.TransitionError(_("No registered enterprise you may serve has the code %(code)s.") % {
            "code": uscc_lib.normalize(code)})
    return enterprise


def _local(value, zone):
    return value.astimezone(zone) if value else None


def as_dict(appeal: Appeal, user) -> dict:
    """The appeal as pages and API show it; times in the region's time zone (+08:00)."""
    zone = ZoneInfo(appeal.region.rule("time_zone"))
    phone = appeal.contact_phone
    if not scopes.can_see_contact_phone(user, appeal):
        phone = scopes.mask_phone(phone)
    left = appeal.workdays_left()
    return {
        "id": appeal.id, "number": appeal.number, "status": appeal.status, "category": appeal.category,
        "scope": appeal.scope, "channel": appeal.channel.code, "title": appeal.title,
        "description": appeal.description, "enterprise_uscc": appeal.enterprise.uscc,
        "enterprise_name": appeal.enterprise.name, "contact_name": appeal.contact_name, "contact_phone": phone,
        "received_at": _local(appeal.received_at, zone),
        "received_node": appeal.received_node.code if appeal.received_node else None,
        "accepted_at": _local(appeal.accepted_at, zone), "due_at": _local(appeal.due_at, zone),
        "handled_at": _local(appeal.handled_at, zone), "closed_at": _local(appeal.closed_at, zone),
        "workdays_left": left,
        "overdue": appeal.is_overdue(),
        "section": appeal.section.code if appeal.section else None,
        "lead_department": appeal.lead_department.code if appeal.lead_department else None,
        "lead_department_name": appeal.lead_department.name if appeal.lead_department else None,
        "assisting_departments": [d.code for d in appeal.assisting_departments.all()],
        "resolution": appeal.resolution, "reply": appeal.reply, "dissatisfied_count": appeal.dissatisfied_count,
        "converted_to_whistle": appeal.converted_to_whistle, "escalation_level": appeal.escalation_level,
        "escalation_pending": appeal.escalation_pending, "fallback_reasons": list(appeal.fallback_reasons or []),
        "version": appeal.version,
    }


def as_detail(appeal: Appeal, user) -> dict:
    data = as_dict(appeal, user)
    data["events"] = [
        {"seq": e.seq, "action": e.action, "actor": (e.actor.display_name or e.actor.username) if e.actor else None,
         "at": _local(e.at, ZoneInfo(appeal.region.rule("time_zone"))), "from_status": e.from_status, "to_status": e.to_status, "note": e.note, "data": e.data}
        for e in appeal.events.select_related("actor").order_by("seq")
    ]
    data["actions"] = [a.name for a in workflow.available_actions(user, appeal)]
    data["attachments"] = [attachment_dict(a) for a in appeal.attachments.order_by("uploaded_at", "id")]
    from . import escalation

    body = escalation.coordinating_body(appeal)
    data["coordinating_body"] = body.name if body else None
    data["tasks"] = [task_dict(t) for t in tasks_of(appeal)]
    from . import ratings

    data["ratings"] = ratings.history(appeal, user)
    from qifu.supervision import records

    if user.is_enterprise_user and not (user.roles & scopes.STAFF_ROLES):  # an enterprise never sees supervision
        data.update(supervision=[], slips=[], leader_instructions=[])
        return data
    data["supervision"] = records.of_appeal(appeal)
    data["slips"] = [records.slip_dict(s) for s in appeal.slips.select_related("lead_department")
                     .prefetch_related("assisting_departments").order_by("issued_at", "id")]
    data["leader_instructions"] = [records.instruction_dict(i) for i in
                                   appeal.leader_instructions.select_related("leader").order_by("at", "id")]
    return data


def tasks_of(appeal: Appeal):
    return appeal.tasks.select_related("owner_department", "owner_user", "meeting").order_by("due_on", "id")


def task_dict(task) -> dict:
    return {"id": task.id, "text": task.text, "owner": task.owner_name,
            "owner_department": task.owner_department.code if task.owner_department_id else None,
            "owner_user": task.owner_user.username if task.owner_user_id else None, "due_on": task.due_on,
            "state": task.state(), "done_at": task.done_at, "meeting": task.meeting.title if task.meeting_id else None}


def attachment_dict(attachment) -> dict:
    from django.urls import reverse

    try:
        size = attachment.file.size
    except (OSError, ValueError):
        size = None
    return {"id": attachment.id, "name": attachment.name, "kind": attachment.kind, "size": size,
            "uploaded_at": attachment.uploaded_at,
            "url": reverse("appeal_attachment", args=[attachment.appeal_id, attachment.id])}

"""Open311 GeoReport v2 at /open311/v2/ (https://wiki.open311.org/GeoReport_v2).

Services are the sections (板块) of the regions the caller may see, plus `general`. Service requests
are appeals: filed through `workflow.register` on the `open311` channel, read through
`scopes.appeals(user)` — every request resource needs an `api_key` (a token from `qifu token create`),
and a request outside the caller's scope answers 404 as if it did not exist. Contact phones are never
shown. JSON or XML follows the extension (`requests.xml`); without one, JSON.
"""

from __future__ import annotations

import datetime
import functools
import json
import xml.etree.ElementTree as ET
from typing import Any, Callable

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from qifu.accounts import scopes
from qifu.accounts.models import ApiToken
from qifu.audit.context import set_actor
from qifu.lib import inputs
from qifu.lib import uscc as uscc_lib
from qifu.org.models import Section

from . import queries, workflow
from .models import REGULAR_CATEGORIES, Appeal, AppealEvent, Channel, Status

GENERAL = "general"
CHANNEL = "open311"
CLOSED = (Status.CLOSED, Status.WITHDRAWN, Status.MERGED)
MAX_REQUESTS = 1000
DEFAULT_DAYS = 90
# XML: the element each item of a list is written as.
ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
         "values": "value"}


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


# --- rendering -------------------------------------------------------------------------------------

def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _fill(ET.SubElement(element, name), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def render(data: Any, fmt: str, root: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        element = ET.Element(root)
        _fill(element, data)
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")
        return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/json; charset=utf-8",
                        status=status)


def endpoint(root: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """A GeoReport resource: `view(request, **kwargs)` returns (data, status); errors become
    `[{"code": N, "description": "…"}]` (XML `<errors><error>…`) with that HTTP status."""
    def wrap(view: Callable) -> Callable:
        @csrf_exempt  # API clients authenticate with api_key, not a session
        @functools.wraps(view)
        def inner(request: HttpRequest, fmt: str | None = None, **kwargs) -> HttpResponse:
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            fmt = fmt or "json"
            try:
                data, status = view(request, **kwargs)
            except Open311Error as e:
                return render([{"code": e.code, "description": e.description}], fmt, "errors", e.code)
            except workflow.WorkflowError as e:  # 400, or 422 for an Idempotency-Key reused with another request
                return render([{"code": e.status_code, "description": str(e)}], fmt, "errors", e.status_code)
            except inputs.InputError as e:
                return render([{"code": 400, "description": str(e)}], fmt, "errors", 400)
            except PermissionDenied as e:
                return render([{"code": 403, "description": str(e) or _("Forbidden.")}], fmt, "errors", 403)
            return render(data, fmt, root, status)
        return inner
    return wrap


def _iso(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- who is asking ---------------------------------------------------------------------------------

def _caller(request: HttpRequest, required: bool):
    key = (request.POST.get("api_key") if request.method == "POST" else None) or request.GET.get("api_key")
    if not (key or "").strip():
        if required:
            raise Open311Error(403, _("An api_key is required."))
        return AnonymousUser()
    user = ApiToken.objects.authenticate(key.strip())
    if user is None:
        raise Open311Error(403, _("Invalid api_key."))
    set_actor(user, "api")
    return user


# --- services --------------------------------------------------------------------------------------

def _sections(user, request: HttpRequest) -> QuerySet[Section]:
    qs = scopes.sections(user).select_related("region", "lead_department")
    if request.GET.get("jurisdiction_id"):
        qs = qs.filter(region__code=request.GET["jurisdiction_id"])
    return qs


def _general_service(group: str) -> dict:
    return {"service_code": GENERAL, "service_name": _("Enterprise appeal"),
            "description": _("Any problem an enterprise asks the service center to solve."),
            "metadata": True, "type": "realtime", "keywords": "", "group": group}


def _service(section: Section) -> dict:
    keywords = [section.kind, section.lead_department.name if section.lead_department else ""]
    return {"service_code": section.code, "service_name": section.name, "description": section.description,
            "metadata": True, "type": "realtime", "keywords": ", ".join(k for k in keywords if k),
            "group": section.region.name}


@endpoint("services")
def services(request: HttpRequest):
    user = _caller(request, required=False)
    sections = list(_sections(user, request))
    regions = {s.region.name for s in sections}
    general = _general_service(regions.pop() if len(regions) == 1 else "")
    return [general, *(_service(s) for s in sections)], 200


def _attribute(order: int, code: str, description: str, required: bool = False, values=None) -> dict:
    attribute = {"variable": True, "code": code, "datatype": "singlevaluelist" if values else "string",
                 "required": required, "datatype_description": None, "order": order, "description": description}
    if values:
        attribute["values"] = values
    return attribute


@endpoint("service_definition")
def service_definition(request: HttpRequest, code: str):
    user = _caller(request, required=False)
    if code != GENERAL and not _sections(user, request).filter(code=code).exists():
        raise Open311Error(404, _("There is no service %(code)s.") % {"code": code})
    categories = [{"key": c.value, "name": str(c.label)} for c in REGULAR_CATEGORIES]  # the fallback lane: by classify
    return {"service_code": code, "attributes": [
        _attribute(1, "uscc", _("Unified social credit code"), required=True),
        _attribute(2, "category", _("Class"), values=categories),
        _attribute(3, "contact_name", _("Contact person")),
    ]}, 200


# --- service requests ------------------------------------------------------------------------------

def _visible(user) -> QuerySet[Appeal]:
    events = AppealEvent.objects.filter(appeal=OuterRef("pk")).order_by("-seq")
    return queries.with_related(scopes.appeals(user)).annotate(
        updated=Subquery(events.values("at")[:1]), latest_note=Subquery(events.exclude(note="").values("note")[:1]))


def _notice(appeal: Appeal) -> str | None:
    if appeal.status == Status.SUBMITTED:
        return _("Waiting for the service center to accept it.")
    if appeal.is_open and appeal.due_at:
        return _("An answer is due by %(due)s.") % {"due": timezone.localtime(appeal.due_at).strftime("%Y-%m-%d")}
    return None


def _request(appeal: Appeal) -> dict:
    return {
        "service_request_id": appeal.number,
        "status": "closed" if appeal.status in CLOSED else "open",
        "status_notes": appeal.reply or getattr(appeal, "latest_note", None) or None,
        "service_name": appeal.section.name if appeal.section else _("Enterprise appeal"),
        "service_code": appeal.section.code if appeal.section else GENERAL,
        "description": appeal.description,
        "agency_responsible": appeal.lead_department.name if appeal.lead_department else None,
        "service_notice": _notice(appeal),
        "requested_datetime": _iso(appeal.received_at),
        "updated_datetime": _iso(getattr(appeal, "updated", None)),
        "expected_datetime": _iso(appeal.due_at),
        "address": appeal.enterprise.registered_address or None,
        "address_id": None, "zipcode": None, "lat": None, "long": None, "media_url": None,
    }


def _when(request: HttpRequest, name: str) -> datetime.datetime | None:
    value = (request.GET.get(name) or "").strip()
    if not value:
        return None
    try:  # a "+" of the offset arrives as a space when the client did not encode it
        when = datetime.datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, _("%(name)s must be an ISO 8601 date and time.") % {"name": name}) from None
    return inputs.aware(when)


def _search(request: HttpRequest, user) -> list[dict]:
    qs = _visible(user)
    numbers = [n.strip() for n in request.GET.get("service_request_id", "").split(",") if n.strip()]
    if numbers:  # "overrides all other arguments"
        return [_request(a) for a in qs.filter(number__in=numbers)[:MAX_REQUESTS]]
    if request.GET.get("jurisdiction_id"):
        qs = qs.filter(region__code=request.GET["jurisdiction_id"])
    code = request.GET.get("service_code", "").strip()
    if code:
        qs = qs.filter(section__isnull=True) if code == GENERAL else qs.filter(section__code=code)
    start, end = _when(request, "start_date"), _when(request, "end_date")
    if start is None and end is None:
        start = timezone.now() - datetime.timedelta(days=DEFAULT_DAYS)
    if start:
        qs = qs.filter(received_at__gte=start)
    if end:
        qs = qs.filter(received_at__lte=end)
    wanted = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed."))
    if wanted == {"open"}:
        qs = qs.exclude(status__in=CLOSED)
    elif wanted == {"closed"}:
        qs = qs.filter(status__in=CLOSED)
    return [_request(a) for a in qs[:MAX_REQUESTS]]


def _contact_name(post) -> str:
    if post.get("attribute[contact_name]", "").strip():
        return post["attribute[contact_name]"].strip()
    first, last = post.get("first_name", "").strip(), post.get("last_name", "").strip()
    if any("\u4e00" <= c <= "\u9fff" for c in first + last):
        return last + first  # 姓 then 名, no space
    return " ".join(p for p in (first, last) if p)


def _created(appeal: Appeal) -> tuple[list[dict], int]:
    return [{"service_request_id": appeal.number, "service_notice": _notice(appeal), "account_id": None}], 201


def _file(request: HttpRequest, user) -> tuple[list[dict], int]:
    post = request.POST
    code = post.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    section = None
    if code != GENERAL:
        section = _sections(user, request).filter(code=code).first()
        if section is None:
            raise Open311Error(404, _("There is no service %(code)s.") % {"code": code})
    problem = uscc_lib.problem(post.get("attribute[uscc]", ""))
    if problem:
        raise Open311Error(400, problem)
    key = inputs.idempotency_key(request.headers.get("Idempotency-Key"))
    digest = inputs.request_hash("open311", sorted(
        (name, post.getlist(name)) for name in post if name != "api_key")) if key else ""
    if key:
        earlier = workflow.earlier_for_key(user, key, digest)
        if earlier is not None:
            return _created(earlier)
    enterprise = queries.enterprise_for_intake(user, post["attribute[uscc]"])
    channel = Channel.open_by_code(CHANNEL)
    if channel is None:
        raise Open311Error(400, _("Unknown channel %(code)s.") % {"code": CHANNEL})
    description = post.get("description", "").strip()
    title = " ".join(description.split())[:40] or (section.name if section else _("Enterprise appeal"))
    try:
        with transaction.atomic():
            appeal, created = workflow.register(
                actor=user, enterprise=enterprise, channel=channel, title=title, description=description,
                contact_name=_contact_name(post), contact_phone=post.get("phone", ""),
                category=post.get("attribute[category]") or None, idempotency_key=key, request_hash=digest,
                section=section, key_checked=True,
            )
    except IntegrityError:  # the same key raced in from a parallel retry
        appeal = workflow.earlier_for_key(user, key, digest)
    return _created(appeal)


@endpoint("service_requests", methods=("GET", "POST"))
def requests(request: HttpRequest):
    user = _caller(request, required=True)
    if request.method == "POST":
        return _file(request, user)
    return _search(request, user), 200


@endpoint("service_requests")
def request_detail(request: HttpRequest, number: str):
    user = _caller(request, required=True)
    appeal = _visible(user).filter(number=number).first()
    if appeal is None:
        raise Open311Error(404, _("There is no service request %(id)s.") % {"id": number})
    return [_request(appeal)], 200

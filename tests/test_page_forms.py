"""Every form of the pages, as each kind of user fills it badly: text far over any length, dates in the
year 1 and 9999, numbers of 1e30, a NUL character. The page answers with its message (4xx or the form
again), never a server error, and a refused form stores nothing."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from qifu.accounts.models import Role
from qifu.appeals.models import Appeal
from qifu.enterprises.models import Enterprise, Tag
from qifu.policies.models import Policy, PolicyClause

from .world import populated

pytestmark = pytest.mark.django_db

LONG = "长" * 5000


class Forms(HTMLParser):
    """The forms of a page: action, method and fields (name, type, value) as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                          "fields": [], "files": "multipart" in (a.get("enctype") or "")}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a and any(
                    f[0] == a["name"] for f in self._form["fields"]):
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                self._form["fields"].append([a["name"], kind, a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], "textarea", ""]
            self._form["fields"].append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], "select", None]
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            if self._select[2] in (None, "") or "selected" in a:
                self._select[2] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data


def _bad(kind, value, how):
    if kind in ("text", "textarea", "search", "email", "tel", "url"):
        return {"long": LONG, "nul": "坏\x00值"}.get(how, value)
    if kind == "date":
        return {"long": "0001-01-01", "nul": "9999-12-31"}.get(how, value)
    if kind == "datetime-local":
        return {"long": "0001-01-01T00:00", "nul": "9999-12-31T23:59"}.get(how, value)
    if kind == "number":
        return {"long": "1e30", "nul": "-1e30"}.get(how, value)
    return value


def _pages(w):
    appeal = Appeal.objects.filter(pk__in=w.ids["appeal_id"]).order_by("pk").first()
    policy = Policy.objects.order_by("pk").first()
    clause = PolicyClause.objects.get(code="W-RD-2")
    confirm = PolicyClause.objects.get(code="W-RD-1")
    tag = Tag.objects.create(name="手工标签", kind=Tag.Kind.MANUAL)
    return {  # the administrator last: its forms retire policies and reassign cases
        Role.HANDLER: [f"/appeals/{w.assigned.pk}/", "/profiles/import/"],
        Role.ENTERPRISE: ["/appeals/submit/", f"/appeals/{appeal.pk}/", f"/policies/clauses/{clause.pk}/apply/"],
        Role.ADMIN: ["/appeals/", "/appeals/new/", f"/appeals/{appeal.pk}/", f"/appeals/{w.assigned.pk}/",
                     "/enterprises/", "/enterprises/new/", f"/enterprises/{w.ent_east.pk}/edit/",
                     "/policies/", "/policies/new/", f"/policies/{policy.pk}/edit/",
                     f"/policies/{policy.pk}/clauses/new/", f"/policies/clauses/{clause.pk}/edit/",
                     "/policies/import/", "/policies/payouts/", "/policies/applications/",
                     f"/policies/applications/{w.application.pk}/", "/tags/", "/tags/rules/new/", "/inbox/",
                     f"/policies/clauses/{confirm.pk}/confirm/", f"/policies/{policy.pk}/",
                     f"/enterprises/{w.ent_east.pk}/", f"/tags/{tag.pk}/"],
    }


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return populated("pf")


@pytest.mark.parametrize("how", ["long", "nul"])
def test_every_form_filled_badly_gets_an_answer_not_a_server_error(client, world, how):
    """`long`: 5000-character text, dates in the year 1, 1e30; `nul`: a NUL in text, 9999-12-31, -1e30."""
    tried = 0
    for role, urls in _pages(world).items():
        client.force_login(world.users[role])
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200, (role, url, page.status_code)
            parser = Forms()
            parser.feed(page.content.decode())
            for form in parser.forms:
                action = form["action"] or url
                if urlsplit(action).path in ("/logout/", "/i18n/setlang/"):
                    continue
                data = {}
                for name, kind, value in form["fields"]:
                    data.setdefault(name, []).append(_bad(kind, value or "", how))
                if form["method"] == "post":
                    answer = client.post(action, data)
                else:
                    answer = client.get(action, data)
                tried += 1
                assert answer.status_code < 500, (role, url, action, form["method"], answer.status_code)
                if any("\x00" in v for values in data.values() for v in values):
                    assert answer.status_code == 400, (role, url, action, answer.status_code)
    assert tried >= 25


def test_a_refused_intake_stores_nothing_and_says_why(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    before = Appeal.objects.count()
    answer = client.post("/appeals/new/", {
        "enterprise_uscc": world.ent_east.uscc, "channel": "walk_in", "contact_phone": "1" * 40,
        "problem-TOTAL_FORMS": "1", "problem-INITIAL_FORMS": "0", "problem-MIN_NUM_FORMS": "1",
        "problem-MAX_NUM_FORMS": "20", "problem-0-title": "标" * 201, "problem-0-description": "说明"})
    assert answer.status_code == 200 and Appeal.objects.count() == before
    text = answer.content.decode()
    assert "200" in text and "32" in text  # the limits are named next to the fields


def test_an_enterprise_form_with_a_year_one_date_is_refused_or_kept_as_typed(client, world):
    client.force_login(world.users[Role.ADMIN])
    answer = client.post(f"/enterprises/{world.ent_east.pk}/edit/", {
        "uscc": world.ent_east.uscc, "name": world.ent_east.name, "registration_date": "0001-01-01"})
    assert answer.status_code < 500
    assert Enterprise.objects.get(pk=world.ent_east.pk).registration_date is None

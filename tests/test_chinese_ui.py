"""Every page, as every demo role, in Chinese: no English word reaches a Chinese user.

The demo region is loaded once for this module (inside a transaction rolled back at the end). Each role
crawls from its home page and its navigation (tests/chinese.py: same-origin GET links, one page per URL
shape, no sign-out, downloads or API); every page must answer without a server error and show no English
word outside the allow-list, data (codes, usernames) and, for staff, formulas marked translate="no".
The same pages are then fetched with the English switch (and Accept-Language) to show nothing breaks.
"""

import pytest
from django.db import transaction

from qifu.accounts.models import User

from . import chinese

ROLES = ["admin", "frontdesk", "dispatcher", "handler", "chief", "specialist", "liaison", "supervisor", "leader",
         "enterprise", "station"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from qifu.demo import appeals as demo_appeals
    from qifu.demo import data

    count = demo_appeals.COUNT
    demo_appeals.COUNT = 60  # every status and role still has appeals; a quarter of the demo's time
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                data.load()
                yield data_words(), admin_words()
                transaction.set_rollback(True)
        finally:
            demo_appeals.COUNT = count


def data_words() -> frozenset[str]:
    """Words that are data, not interface: codes of the organization, channels and policies, usernames.
    Field codes of the catalog are not among them: nobody reads those without their label."""
    from qifu.appeals.models import Channel
    from qifu.org import models as org
    from qifu.policies.models import Policy, PolicyClause
    from qifu.profiles import catalog

    words: set[str] = set(User.objects.values_list("username", flat=True))
    for model in (org.Region, org.Jurisdiction, org.ServiceNode, org.Department, org.Section, org.Zone, org.Window,
                  org.Post, Channel, Policy, PolicyClause):
        words.update(model.objects.values_list("code", flat=True))
    return frozenset(words - {f.code for f in catalog.fields()})


def admin_words() -> frozenset[str]:
    """On admin pages every code is data, the catalog's field codes included (the admin maintains them)."""
    from django.apps import apps

    words: set[str] = set()
    for model in apps.get_models():
        for name in ("code", "station_type", "event", "function"):
            if model.__module__.startswith("qifu.") and any(f.name == name for f in model._meta.fields):
                words.update(v for v in model.objects.values_list(name, flat=True) if v)
    return frozenset(words)


def _start(client) -> list[str]:
    from qifu.front.nav import nav_items

    user = User.objects.get(pk=client.session["_auth_user_id"])
    return ["/"] + [str(item["url"]) for item in nav_items(user)]


@pytest.mark.parametrize("username", ROLES)
def test_every_page_is_in_chinese_for_every_role(client, db, demo, username):
    client.force_login(User.objects.get(username=username))
    data, admin = demo
    visits = chinese.crawl(client, _start(client), data_words=data, admin_words=admin, strict=username == "enterprise")
    assert len(visits) >= 5, [v.url for v in visits]
    errors = [(v.url, v.status, v.referrer) for v in visits if v.status >= 400]
    assert not errors, f"pages that fail (url, status, linked from): {errors}"
    leaks = {v.url: sorted({w for w, _t in v.english}) for v in visits if v.english}
    details = [f"{v.url}: {w!r} in {t!r}" for v in visits for w, t in v.english[:3]]
    assert not leaks, "English on Chinese pages:\n" + "\n".join(details)


def test_an_english_crawl_of_the_same_pages_breaks_nothing(client, db, demo):
    """The English switch (and Accept-Language) renders every page of a staff and an enterprise user."""
    data, admin = demo
    for username in ("dispatcher", "enterprise"):
        client.force_login(User.objects.get(username=username))
        client.cookies["django_language"] = "en"
        visits = chinese.crawl(client, _start(client), max_pages=60)
        assert len(visits) >= 5
        assert not [(v.url, v.status) for v in visits if v.status >= 400]
        home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<html lang="en">' in home and "Sign out" in home


# --- the detector itself ---------------------------------------------------------------------------------

def test_the_check_finds_an_untranslated_snippet():
    page = '<html><body><h1>我的政策</h1><p>You qualify for 5 policy clauses</p></body></html>'
    assert [w for w, _t in chinese.english_words(page)] == ["You", "qualify", "for", "policy", "clauses"]
    assert chinese.english_words('<button title="Sign out">退出</button>')  # shown attributes count
    assert chinese.english_words('<p>按住Control键，再点Save按钮</p>') == [("Save", "按住Control键，再点Save按钮")]


def test_the_check_lets_data_codes_and_technical_tokens_pass():
    page = """<html><head><title>诉求 · qifu</title><script>var x = "Hello world";</script>
      <style>.a { color: red }</style></head><body>
      <p>QT-20261120-0003 · 913301142YNFLDMJXJ · 导出 Excel · HTMX · 邮箱 chen@example.com · https://example.com/a</p>
      <p>部门 qt-jxj</p><textarea>any text being edited</textarea>
      <button name="language" value="en">English</button>
      <p>公式 <code translate="no">min(rd_expense * 0.1, 1000000)</code>（研发费用 × 10%，最高 1,000,000 元）</p>
    </body></html>"""
    assert chinese.english_words(page, data_words=frozenset({"qt-jxj"})) == []
    # Enterprises never see formulas or field codes, marked or not.
    assert {w for w, _t in chinese.english_words(page, data_words=frozenset({"qt-jxj"}), strict=True)} == {
        "min", "rd_expense"}


def test_the_crawl_fails_when_a_string_is_left_untranslated(client, db, demo, monkeypatch):
    """A navigation label that bypasses gettext shows on every page, and the crawl reports each page."""
    from qifu.front import nav

    monkeypatch.setattr(nav, "NAV", [("Home page", *nav.NAV[0][1:]), *nav.NAV[1:]])
    client.force_login(User.objects.get(username="leader"))
    visits = chinese.crawl(client, _start(client), data_words=demo[0])
    pages = [v for v in visits if v.status == 200]
    assert len(pages) >= 5 and all({"Home", "page"} <= {w for w, _t in v.english} for v in pages)


def test_the_demo_has_the_escalation_ladder_meetings_and_the_fallback_lane(db, demo):
    """Escalated cases at levels 2 and 3, requests awaiting the task force and the leader, a refusal that became a
    second assignment, last week's meeting with decisions (tasks done, open, overdue), fallback cases of each
    class with a deliberation — a handful among the demo's appeals, not most of them."""
    from qifu.appeals import escalation
    from qifu.appeals.models import Appeal, AppealEvent, AppealTask, Meeting

    levels = sorted(Appeal.objects.filter(escalation_level__gte=2).values_list("escalation_level", flat=True))
    assert levels == [2, 2, 2, 3, 3]
    assert [a.title for a in escalation.pending_escalations(User.objects.get(username="supervisor"))] == ["污水纳管跨区域协调"]
    assert [a.title for a in escalation.pending_escalations(User.objects.get(username="leader"))] == ["夜班员工公交线路开通"]
    assert AppealEvent.objects.filter(action="reassign", data__second_assignment=True).count() == 1
    meeting = Meeting.objects.get()
    assert meeting.agenda.count() == 2 and meeting.minutes and meeting.attachments.count() == 2
    assert sorted(t.state() for t in AppealTask.objects.all()) == ["done", "open", "overdue"]
    fallback = Appeal.objects.filter(category__startswith="fallback_")
    assert {a.category for a in fallback} == {"fallback_on_spot", "fallback_chief", "fallback_deliberation"}
    assert AppealEvent.objects.filter(action="deliberate").count() == 1 and all(a.fallback_reasons for a in fallback)
    assert Appeal.objects.filter(escalation_level__gte=2).count() + fallback.count() < Appeal.objects.count() / 5


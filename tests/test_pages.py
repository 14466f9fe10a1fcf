"""Server-rendered pages: role homes, scoping by URL, forms that explain bad input, language switch."""

import pytest

from qifu.accounts.models import Role
from qifu.enterprises.models import Enterprise

from .world import World, credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_own_home_page(client, world, role):
    client.force_login(world.users[role])
    r = client.get("/")
    assert r.status_code == 200
    assert f'data-testid="home-{role.value}"'.encode() in r.content


def test_the_page_is_in_simplified_chinese_by_default(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    r = client.get("/")
    assert '<html lang="zh-hans">' in r.content.decode() and "退出" in r.content.decode()


def test_english_through_the_language_switch(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    r = client.get("/")
    assert '<html lang="en">' in r.content.decode() and "Sign out" in r.content.decode()


def test_an_enterprise_user_cannot_open_another_enterprise_by_url(client, world):
    client.force_login(world.users[Role.ENTERPRISE])
    assert client.get(f"/enterprises/{world.ent_east.pk}/").status_code == 200
    assert client.get(f"/enterprises/{world.ent_west.pk}/").status_code == 404
    assert client.get(f"/enterprises/{world.ent_west.pk}/edit/").status_code == 404


def test_an_enterprise_user_is_kept_out_of_the_enterprise_list(client, world):
    client.force_login(world.users[Role.ENTERPRISE])
    r = client.get("/enterprises/", follow=True)
    assert world.ent_west.name not in r.content.decode()


def test_a_supervisor_sees_only_the_jurisdictions_enterprises(client, world):
    client.force_login(world.users[Role.SUPERVISOR])
    page = client.get("/enterprises/").content.decode()
    assert world.ent_west.name in page and world.ent_east.name not in page


def test_the_lookup_finds_by_name_or_code(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    by_name = client.get("/enterprises/", {"q": "东方"}, HTTP_HX_REQUEST="true").content.decode()
    assert world.ent_east.name in by_name and world.ent_west.name not in by_name
    by_code = client.get("/enterprises/", {"q": world.ent_west.uscc[:12]}).content.decode()
    assert world.ent_west.name in by_code


def test_the_form_explains_a_bad_credit_code_and_saves_nothing(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    good = credit_code(901)
    bad = good[:2] + "I" + good[3:]
    r = client.post("/enterprises/new/", {"uscc": bad, "name": "错码演示有限公司"})
    assert r.status_code == 200
    assert "不允许" in r.content.decode() or "not allowed" in r.content.decode()
    assert not Enterprise.objects.filter(name="错码演示有限公司").exists()


def test_the_form_registers_a_valid_enterprise(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    r = client.post("/enterprises/new/", {"uscc": credit_code(902), "name": "新表单演示有限公司",
                                          "jurisdiction": world.east.pk, "industry": "C3670", "size": "small",
                                          "tag_names": "专精特新，规上工业"})
    enterprise = Enterprise.objects.get(name="新表单演示有限公司")
    assert r.status_code == 302 and r["Location"] == f"/enterprises/{enterprise.pk}/"
    assert sorted(t.name for t in enterprise.tags.all()) == ["专精特新", "规上工业"]


def test_the_organization_directory_lists_sections_and_nodes(client, world):
    client.force_login(world.users[Role.ENTERPRISE])
    page = client.get("/org/").content.decode()
    assert "政策服务板块" in page and "东驿站" in page


def test_administrators_are_warned_about_a_year_without_calendar_data(client, world, monkeypatch):
    from qifu.workcal import workdays

    monkeypatch.setattr(workdays, "missing_years", lambda years: [2027])
    client.force_login(world.users[Role.ADMIN])
    assert b'data-testid="calendar-banner"' in client.get("/").content
    client.force_login(world.users[Role.FRONT_DESK])
    assert b'data-testid="calendar-banner"' not in client.get("/").content


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client, world):
    client.force_login(world.users[Role.FRONT_DESK])
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in r.content.decode()

"""Every role's home shows its work queue with counts, and each count is what the list it opens shows."""

import datetime
import re

import pytest

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Channel

from .world import World

pytestmark = pytest.mark.django_db


def count(client, user, testid) -> int | None:
    client.force_login(user)
    html = client.get("/").content.decode()
    found = re.search(rf'data-testid="{testid}">(\d+)<', html)
    return int(found.group(1)) if found else None


def listed(client, user, query) -> int:
    client.force_login(user)
    html = client.get(f"/appeals/?{query}").content.decode()
    return len(set(re.findall(r'href="/appeals/(\d+)/"', html)))


def test_the_homes_count_what_their_buttons_open(client):
    ensure_default_channels()
    w = World()
    window = Channel.objects.get(code="window")
    front, dispatcher, handler = w.users[Role.FRONT_DESK], w.users[Role.DISPATCHER], w.users[Role.HANDLER]
    enterprise = w.users[Role.ENTERPRISE]

    def register(actor, **extra):
        return workflow.register(actor=actor, enterprise=w.ent_east, channel=window, title="用电增容",
                                 description="描述", **extra)[0]

    register(enterprise)  # submitted online: waiting for dispatch
    register(front)  # accepted: waiting for dispatch
    late = register(front, category="simple", received_at=datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    workflow.perform(late, "assign", dispatcher, late.version, lead_department=w.dept.code)  # overdue, being handled
    done = register(front, category="single")
    done = workflow.perform(done, "assign", dispatcher, done.version, lead_department=w.dept.code)
    done = workflow.perform(done, "reply", handler, done.version, resolution="solved", text="已办结")
    workflow.perform(done, "mark_handled", handler, done.version)  # waiting for the enterprise's confirmation

    assert count(client, dispatcher, "count-to-dispatch") == 2 == listed(client, dispatcher, "status=to_dispatch")
    assert count(client, dispatcher, "count-overdue") == 1 == listed(client, dispatcher, "overdue=yes")
    assert count(client, handler, "count-being-handled") == 1 == listed(client, handler, "status=assigned")
    assert count(client, handler, "count-overdue") == 1
    assert count(client, enterprise, "count-to-confirm") == 1 == listed(client, enterprise, "status=handled")
    assert count(client, w.west_user, "count-to-confirm") is None  # nothing to confirm: no button


def rows_on(client, url) -> int:
    """How many rows the list at `url` shows (all pages): its paginator's count."""
    r = client.get(url)
    assert r.status_code == 200, url
    return r.context["page"].paginator.count


def assert_each_count_is_its_list(client, user, items):
    client.force_login(user)
    assert items
    for item in items:
        assert rows_on(client, item["url"]) == item["n"], item


def register_at(w, actor, received=None, **extra):
    window = Channel.objects.get(code="window")
    if received is not None:
        extra["received_at"] = received
    return workflow.register(actor=actor, enterprise=w.ent_east, channel=window, title="用电增容",
                             description="描述", **extra)[0]


def test_the_station_sees_its_name_and_its_cases(client):
    ensure_default_channels()
    w = World()
    station, front, dispatcher, handler = (w.station_user, w.users[Role.FRONT_DESK], w.users[Role.DISPATCHER],
                                           w.users[Role.HANDLER])
    register_at(w, station)  # at the station, waiting for dispatch
    late = register_at(w, station, category="simple",
                       received=datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    workflow.perform(late, "assign", dispatcher, late.version, lead_department=w.dept.code)  # overdue
    done = register_at(w, station, category="single")
    done = workflow.perform(done, "assign", dispatcher, done.version, lead_department=w.dept.code)
    done = workflow.perform(done, "reply", handler, done.version, resolution="solved", text="已办结")
    workflow.perform(done, "mark_handled", handler, done.version)  # waiting for the enterprise
    register_at(w, front)  # at the center: not the station's

    client.force_login(station)
    r = client.get("/")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="home-station-name">东驿站<' in html
    assert count(client, station, "count-station-open") == 3
    assert count(client, station, "count-station-overdue") == 1
    assert count(client, station, "count-station-to-confirm") == 1
    assert count(client, station, "count-station-all") == 3
    assert r.context["station"]["all"]["url"] == "/appeals/?node=w-station"
    assert_each_count_is_its_list(client, station, r.context["station"]["counts"] + [r.context["station"]["all"]])
    # the center's front desk: no station heading, its own queue
    client.force_login(front)
    r = client.get("/")
    assert "station" not in r.context and 'data-testid="home-station-name"' not in r.content.decode()
    assert [item["name"] for item in r.context["work"]] == ["mine-today", "node-today", "to-dispatch"]


def test_the_front_desk_counts_today(client):
    ensure_default_channels()
    w = World()
    front, dispatcher = w.users[Role.FRONT_DESK], w.users[Role.DISPATCHER]
    register_at(w, front)  # today, by me, at the center, waiting for dispatch
    register_at(w, dispatcher)  # today, at the center, not by me
    register_at(w, front, received=datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC))  # long ago, by me
    assert count(client, front, "count-mine-today") == 1
    assert count(client, front, "count-node-today") == 2
    assert count(client, front, "count-to-dispatch") == 3
    r = client.get("/")
    assert_each_count_is_its_list(client, front, r.context["work"])
    assert "mine=yes" in r.context["work"][0]["url"]


def test_specialists_see_their_sections_and_liaison_officers_what_they_registered(client):
    ensure_default_channels()
    w = World()
    specialist, chief, liaison = (w.users[Role.SPECIALIST], w.users[Role.CHIEF_SPECIALIST], w.users[Role.LIAISON])
    dispatcher, handler = w.users[Role.DISPATCHER], w.users[Role.HANDLER]
    w.section.specialists.add(specialist)
    w.section.chief_specialist = chief
    w.section.save()
    register_at(w, w.users[Role.FRONT_DESK], section=w.section)  # open, in the section
    late = register_at(w, liaison, category="simple", section=w.section,
                       received=datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    workflow.perform(late, "assign", dispatcher, late.version, lead_department=w.dept.code)  # overdue
    done = register_at(w, liaison, category="single")
    done = workflow.perform(done, "assign", dispatcher, done.version, lead_department=w.dept.code)
    done = workflow.perform(done, "reply", handler, done.version, resolution="solved", text="已办结")
    workflow.perform(done, "mark_handled", handler, done.version)  # waiting for the enterprise
    register_at(w, w.users[Role.FRONT_DESK])  # neither the section's nor the liaison officer's

    for user in (specialist, chief):
        assert count(client, user, "count-section-open") == 2
        assert count(client, user, "count-section-overdue") == 1
        sections = client.get("/").context["my_sections"]
        assert [s.code for s in sections] == ["w-policy"]
        assert_each_count_is_its_list(client, user, sections[0].work)
        assert sections[0].work[0]["url"] == "/appeals/?section=w-policy&status=open"

    assert count(client, liaison, "count-mine-open") == 2
    assert count(client, liaison, "count-mine-to-confirm") == 1
    assert_each_count_is_its_list(client, liaison, client.get("/").context["work"])


def test_the_dispatchers_and_handlers_queue_links_count_their_lists(client):
    ensure_default_channels()
    w = World()
    dispatcher = w.users[Role.DISPATCHER]
    late = register_at(w, w.users[Role.FRONT_DESK], category="simple",
                       received=datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    workflow.perform(late, "assign", dispatcher, late.version, lead_department=w.dept.code)
    register_at(w, w.station_user)
    # the dispatcher at the center sees the region's; the handler its unit's only
    assert count(client, dispatcher, "count-to-dispatch") == 1
    assert count(client, w.users[Role.HANDLER], "count-overdue") == 1
    other = w.users[Role.HANDLER].__class__.objects.create_user("w-rsj-handler", password="pw-12345",
                                                               region=w.region, department=w.other_dept)
    other.grant(Role.HANDLER)
    assert count(client, other, "count-overdue") == 0 == listed(client, other, "overdue=yes")

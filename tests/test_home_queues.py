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

"""The appeals list at a million appeals (issue 9, docs/performance.md): it counts up to a cap, and `q` finds the
same appeals with PostgreSQL's bigram indexes as the plain substring search (icontains) does."""

import datetime

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qifu.accounts.models import Role
from qifu.appeals import queries, workflow
from qifu.appeals.models import Appeal, Channel
from qifu.enterprises.models import Enterprise
from qifu.lib import paging

from .world import World, credit_code

pytestmark = pytest.mark.django_db

TITLES = ["用地审批进度咨询", "土地用途变更", "用电报装", "ABC项目用地", "abc Park 扩建", "地用", "水电气接入",
          "100%补贴申请", "under_score 问题"]


@pytest.fixture
def world():
    w = World("lf")
    desk = w.users[Role.FRONT_DESK]
    channel = Channel.objects.get(code="walk_in")
    named = Enterprise.objects.create(region=w.region, uscc=credit_code(), name="晟华鼎新材料有限公司",
                                      jurisdiction=w.east, industry="C3670")
    for i, title in enumerate(TITLES):
        workflow.register(actor=desk, enterprise=named if i % 3 == 0 else w.ent_east, channel=channel, title=title,
                          description="说明", category="single",
                          received_at=timezone.now() - datetime.timedelta(hours=i))
    return w


def _icontains(q):
    named = Enterprise.objects.filter(name__icontains=q).values("pk")
    return set(Appeal.objects.filter(Q(title__icontains=q) | Q(number__icontains=q) | Q(enterprise_id__in=named))
               .values_list("pk", flat=True))


QS = ["用地", "用", "地用", "abc", "ABC", "Abc项", "park", "晟华", "晟华鼎新", "有限公司", "材料", "100%", "_s", "%",
      "审批进度咨询", "不存在的词", "用地审批进度咨询X"]


@pytest.mark.parametrize("q", QS)
def test_q_finds_the_same_appeals_as_the_substring_search(world, q):
    got = set(queries.filtered(Appeal.objects.all(), q=q).values_list("pk", flat=True))
    assert got == _icontains(q)


def test_q_finds_appeal_numbers_by_any_part(world):
    number = Appeal.objects.order_by("pk").first().number
    for part in (number, number[:4], number[-5:], number[2:7].lower()):
        got = set(queries.filtered(Appeal.objects.all(), q=part).values_list("pk", flat=True))
        assert got == _icontains(part) and Appeal.objects.get(number=number).pk in got


def test_many_named_enterprises_go_by_subquery_with_the_same_result(world, monkeypatch):
    monkeypatch.setattr(queries, "NAMED_IDS_MAX", 0)
    for q in ("有限公司", "晟华", "用地"):
        assert set(queries.filtered(Appeal.objects.all(), q=q).values_list("pk", flat=True)) == _icontains(q)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram indexes are PostgreSQL's")
def test_q_uses_the_bigram_index_on_postgresql(world):
    with CaptureQueriesContext(connection) as seen:
        list(queries.filtered(Appeal.objects.all(), q="用地"))
    assert any("qifu_bigrams" in query["sql"] for query in seen.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            sql, params = queries.filtered(Appeal.objects.all(), q="用地").query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "appeals_text_bigrams" in plan


def test_short_lists_count_exactly(client, world):
    dispatcher = world.users[Role.DISPATCHER]
    client.force_login(dispatcher)
    body = client.get("/api/v1/appeals?limit=2").json()
    assert body["count"] == len(TITLES) and body["count_capped"] is False and len(body["items"]) == 2
    page = client.get("/appeals/").content.decode()
    assert f"{len(TITLES)} 件诉求" in page and "超过" not in page


def test_long_lists_count_up_to_the_cap(client, world, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    client.force_login(world.users[Role.DISPATCHER])
    body = client.get("/api/v1/appeals?limit=2&offset=6").json()
    assert body["count"] == 4 and body["count_capped"] is True
    assert len(body["items"]) == 2  # the rows past the cap are still there
    assert client.get("/api/v1/appeals?q=用地").json() | {"items": None} == {
        "items": None, "count": 2, "count_capped": False}
    page = client.get("/appeals/").content.decode()
    assert "超过 4 件诉求" in page
    assert client.get("/appeals/?q=用地").content.decode().count('data-testid="appeal-row"') == 2
    assert paging.capped_count(Appeal.objects.all(), 100) == (len(TITLES), False)
    assert paging.capped_count(Appeal.objects.all(), len(TITLES)) == (len(TITLES), False)
    assert paging.capped_count(Appeal.objects.all(), len(TITLES) - 1) == (len(TITLES) - 1, True)

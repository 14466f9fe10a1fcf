"""Search and smart Q&A (issue 11 item 5): Chinese queries through jieba and the region's synonyms, ranking,
scopes (enterprises see published things only), the API's shape and 400s, the Q&A's best answer with its source, and
"ask a person" becoming an appeal. Run on SQLite (FTS5) and on PostgreSQL (full text): the same results in the same
order on this small corpus."""

import io

import pytest
from django.core.management import call_command

from qifu.accounts.models import Role
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal
from qifu.catalog.models import ServiceItem
from qifu.knowledge.models import KnowledgeEntry
from qifu.policies.models import Policy
from qifu.search import engine, qa
from qifu.search.models import QuestionAnswer, SearchDocument

from .world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    w = World("sr")
    item = lambda code, name, content: ServiceItem.objects.create(  # noqa: E731
        region=w.region, code=code, name=name, content=content, provider_side="government")
    w.social = item("sr-1", "社会保险参保登记服务", "为新开办企业办理职工社会保险参保登记。")
    w.mention = item("sr-2", "企业开办一件事", "营业执照、公章、社会保险、公积金一次办结。")
    w.license = item("sr-3", "营业执照代办服务", "帮办代办设立登记，领取电子营业执照。")
    item("sr-4", "人才公寓申请服务", "高层次人才租住人才公寓。")
    w.draft = Policy.objects.create(region=w.region, code="sr-p1", title="社会保险补贴办法（草案）",
                                    summary="对吸纳就业的企业给予社会保险补贴。")
    w.published = Policy.objects.create(region=w.region, code="sr-p2", title="稳岗社保返还政策", status="published",
                                        summary="按上年度失业保险缴费返还。")
    KnowledgeEntry.objects.create(region=w.region, question="社保断缴怎么补缴？", answer="到社保窗口申请补缴。",
                                  department=w.other_dept, state="draft")
    w.qa = QuestionAnswer.objects.create(item=w.license, question="新办企业怎么申领营业执照？",
                                         answer="通过政务服务网在线提交设立登记，1个工作日办结。",
                                         source="《市场主体登记管理条例》第十九条")
    return w


def titles(user, q, **kw):
    return [h.title for h in engine.search(user, q, **kw)[1]]


def test_synonyms_ranking_and_scopes(w):
    enterprise, staff = w.users[Role.ENTERPRISE], w.users[Role.HANDLER]
    # 社保 finds 社会保险 (a synonym of the region's rules); the item named for it comes before one that mentions it.
    found = titles(enterprise, "社保")
    assert set(found[:2]) == {"社会保险参保登记服务", "稳岗社保返还政策"} and "企业开办一件事" in found
    assert found.index("社会保险参保登记服务") < found.index("企业开办一件事")
    # Pages follow the same order (on PostgreSQL title matches, then body matches), scores going down.
    paged = [h.title for i in range(len(found)) for h in engine.search(enterprise, "社保", limit=1, offset=i)[1]]
    scores = [h.score for h in engine.search(enterprise, "社保")[1]]
    assert paged == found and scores == sorted(scores, reverse=True)
    # The enterprise sees published policies and knowledge only; the staff see the drafts too.
    assert "社会保险补贴办法（草案）" not in found and "社保断缴怎么补缴？" not in found
    assert {"社会保险补贴办法（草案）", "社保断缴怎么补缴？"} <= set(titles(staff, "社保"))
    # 执照 finds 营业执照; words of a question are cut by jieba (怎么/办理 left out).
    assert titles(enterprise, "怎么办理执照")[0] == "营业执照代办服务"
    # Another region's user sees nothing of this one.
    assert titles(World("so").users[Role.ENTERPRISE], "社保") == []
    # A region's own synonyms replace the built-in ones.
    w.region.config = {"search_synonyms": [["人才房", "人才公寓"]]}
    w.region.save()
    assert titles(enterprise, "人才房") == ["人才公寓申请服务"] and titles(enterprise, "社保") == ["稳岗社保返还政策"]
    # Changes reach the index on save; the rebuild gives the same results.
    w.draft.status = "published"
    w.draft.save()
    assert "社会保险补贴办法（草案）" in titles(enterprise, "社会保险")
    before = titles(staff, "社会保险")
    call_command("search", "reindex", stdout=io.StringIO())
    assert titles(staff, "社会保险") == before and SearchDocument.objects.filter(kind="service").count() == 4


def test_api_shape_and_bad_queries(w, client):
    client.force_login(w.users[Role.ENTERPRISE])
    body = client.get("/api/v1/search", {"q": "营业执照", "limit": 2}).json()
    assert body["count"] == 3 and body["count_capped"] is False and len(body["items"]) == 2
    first = body["items"][0]
    assert set(first) == {"kind", "title", "url", "score"}
    assert (first["kind"], first["title"], first["url"]) == ("service", "营业执照代办服务", "/catalog/sr-3/")
    assert body["items"][0]["score"] >= body["items"][1]["score"]
    assert client.get("/api/v1/search", {"q": "营业执照", "offset": 2}).json()["items"][0]["kind"] == "service"
    for bad in ("", "  ", "社" * 101):
        assert client.get("/api/v1/search", {"q": bad}).status_code == 400
    assert client.get("/search/", {"q": "社" * 101}).status_code == 400
    page = client.get("/search/", {"q": "社保"})
    assert page.status_code == 200 and "社会保险参保登记服务" in page.content.decode()
    answer = client.get("/api/v1/qa", {"q": "营业执照怎么领"}).json()
    assert answer["question"] == "新办企业怎么申领营业执照？" and answer["source"].startswith("《市场主体登记管理条例》")


def test_smart_qa_and_ask_a_person(w, client):
    ensure_default_channels()
    user = w.users[Role.ENTERPRISE]
    found = qa.answer(user, "怎么申领营业执照")
    assert found.answer.startswith("通过政务服务网") and found.source == "《市场主体登记管理条例》第十九条"
    assert qa.answer(user, "火星移民签证") is None
    client.force_login(user)
    page = client.get("/search/", {"q": "怎么申领营业执照"}).content.decode()
    assert "1个工作日办结" in page and "第十九条" in page and 'data-testid="ask-person"' in page
    item_page = client.get(w.license.get_absolute_url()).content.decode()  # the item shows its questions once
    assert item_page.count("新办企业怎么申领营业执照？") == 1
    assert "<title>营业执照代办服务" in item_page and "Common questions" not in item_page
    response = client.post("/search/ask/", {"q": "厂房租金补贴什么时候发放？", "details": "去年申请的"})
    appeal = Appeal.objects.get(title="厂房租金补贴什么时候发放？")
    assert response.status_code == 302 and response.url == f"/appeals/{appeal.pk}/"
    assert appeal.enterprise == w.ent_east and appeal.channel.code == "online" and "去年申请的" in appeal.description
    client.force_login(w.users[Role.HANDLER])  # staff do not file appeals this way
    assert client.post("/search/ask/", {"q": "问题"}).status_code == 403


def test_bench_runs_small(w):
    from qifu.search import bench

    figures = bench.run(300, repeat=1, log=lambda line: None)
    assert figures.documents == 300 and figures.p95_ms >= figures.p50_ms > 0 and len(figures.checks) == 1
    assert SearchDocument.objects.filter(region__code=bench.REGION).count() == 300

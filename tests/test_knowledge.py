"""The knowledge base and the case library: anonymized cases from closed, solved appeals (the enterprise never named,
its source appeal never shown to enterprises), who may publish and edit, search, the Excel export, the promotion
candidates, the suggestion's knowledge and `cases_published`."""

import datetime
import io

import pytest
from django.utils import timezone

from qifu.accounts.models import Role, User
from qifu.appeals import routing
from qifu.appeals.channels import ensure_default_channels
from qifu.appeals.models import Appeal, Channel, Resolution, Status
from qifu.audit.models import AuditEntry
from qifu.knowledge import anonymize, services
from qifu.knowledge.models import CaseState, CaseStudy, EntryState, KnowledgeEntry, Promotion
from qifu.org.models import Body, BodyMembership, Department

from .world import World

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
OTHER_PHONE = "0571-86001234"


@pytest.fixture
def w():
    routing.clear_cache()
    ensure_default_channels()
    w = World("kn")
    w.channel = Channel.objects.get(code="walk_in")
    w.n = 0
    w.case_appeal = appeal(w, title="东方演示科技有限公司厂房消防验收",
                           description=f"东方演示科技（信用代码{w.ent_east.uscc}）新建厂房即将竣工，联系人王小明，电话{PHONE}，"
                                       f"财务{OTHER_PHONE}，想了解消防验收需要准备的材料和流程。",
                           reply="已联系王小明，指导东方演示科技有限公司准备消防验收材料，当周完成现场评定。")
    return w


def appeal(w, title, description, reply="", status=Status.CLOSED, resolution=Resolution.SOLVED, lead=None,
           enterprise=None, received_at=None):
    w.n += 1
    return Appeal.objects.create(
        region=w.region, number=f"KN-{w.n:04d}", enterprise=enterprise or w.ent_east, channel=w.channel, title=title,
        description=description, reply=reply, received_at=received_at or timezone.now(), status=status,
        resolution=resolution if status == Status.CLOSED else "", contact_name="王小明", contact_phone=PHONE,
        section=w.section, lead_department=lead or w.dept, version=3, category="single")


def secrets(w):
    return [w.ent_east.name, "东方演示科技", w.ent_east.uscc, "王小明", PHONE, OTHER_PHONE]


def published_text(case):
    return " ".join([case.title, case.problem, case.solution, case.legal_basis])


def publish(client, user, a, **changes):
    client.force_login(user)
    page = client.get(f"/knowledge/cases/from-appeal/{a.pk}/")
    form = page.context["form"]
    data = {name: form.initial.get(name) or "" for name in ("title", "problem", "solution", "legal_basis")}
    data.update(section=w_code(form.initial.get("section")),
                lead_department=w_code(form.initial.get("lead_department")))
    data.update(changes)
    data["state_action"] = "publish"
    return client.post(f"/knowledge/cases/from-appeal/{a.pk}/", data)


def w_code(obj):
    return obj.pk if obj is not None else ""


# --- anonymization -------------------------------------------------------------------------------------

def test_the_draft_replaces_the_name_the_credit_code_the_contact_and_every_phone(w):
    draft = services.draft_from(w.case_appeal)
    text = " ".join([draft["title"], draft["problem"], draft["solution"]])
    for secret in secrets(w):
        assert secret not in text, secret
    assert "某企业" in draft["title"] and "某联系人" in draft["solution"]
    assert "消防验收" in draft["problem"]  # the problem itself stays
    assert anonymize.leaks(text, w.case_appeal) == []


def test_any_credit_code_or_phone_is_masked_whoever_it_belongs_to(w):
    text = "转告供应商（91330114MA2H3K4L5P，手机 139-0000-1234，座机 057186001234）"
    masked = anonymize.mask(text)
    assert "91330114MA2H3K4L5P" not in masked and "139-0000-1234" not in masked and "057186001234" not in masked


def test_a_published_case_never_names_the_enterprise_and_enterprises_never_see_its_source(client, w):
    r = publish(client, w.users[Role.HANDLER], w.case_appeal)
    assert r.status_code == 302, r.content.decode()[:2000]
    case = CaseStudy.objects.get(source_appeal=w.case_appeal)
    assert case.state == CaseState.PUBLISHED and case.published_by == w.users[Role.HANDLER]
    for secret in secrets(w):
        assert secret not in published_text(case)
    # the enterprise (even the very one) reads the case without its source
    for user in (w.users[Role.ENTERPRISE], w.west_user):
        client.force_login(user)
        html = client.get(f"/knowledge/cases/{case.pk}/").content.decode()
        assert case.title in html
        assert w.case_appeal.number not in html and f"/appeals/{w.case_appeal.pk}/" not in html
        assert 'data-testid="source-appeal"' not in html
        for secret in secrets(w):
            assert secret not in html
        body = client.get("/api/v1/knowledge", HTTP_AUTHORIZATION=f"Bearer {w.token(user)}").json()
        item = next(i for i in body["items"] if i["kind"] == "case")
        assert item["source_appeal"] is None and w.case_appeal.number not in str(body)
    # staff who see the appeal get the link
    client.force_login(w.users[Role.DISPATCHER])
    assert f"/appeals/{w.case_appeal.pk}/" in client.get(f"/knowledge/cases/{case.pk}/").content.decode()


def test_the_editor_cannot_type_the_name_back(client, w):
    r = publish(client, w.users[Role.HANDLER], w.case_appeal, solution="已指导东方演示科技准备材料，电话 13900001111。")
    assert r.status_code == 400
    assert "东方演示科技" in r.context["form"].non_field_errors()[0]
    assert not CaseStudy.objects.exists()
    services.create_case(w.users[Role.HANDLER], w.case_appeal, services.draft_from(w.case_appeal))
    case = CaseStudy.objects.get()
    with pytest.raises(services.InputError):
        services.edit_case(w.users[Role.HANDLER], case, {"problem": f"信用代码 {w.ent_east.uscc}"})


# --- which appeals, who -------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "resolution"), [
    (Status.ASSIGNED, ""), (Status.HANDLED, Resolution.SOLVED), (Status.CLOSED, Resolution.EXPLAINED),
    (Status.CLOSED, Resolution.PERSUADED),
])
def test_only_a_closed_solved_appeal_can_be_published(client, w, status, resolution):
    a = appeal(w, "消防验收", "厂房消防验收", status=status, resolution=resolution)
    a.resolution = resolution
    a.save()
    handler = w.users[Role.HANDLER]
    with pytest.raises(services.InputError):
        services.create_case(handler, a, services.draft_from(a), publish=True)
    client.force_login(handler)
    assert client.get(f"/knowledge/cases/from-appeal/{a.pk}/").status_code == 302
    assert 'data-testid="publish-case"' not in client.get(f"/appeals/{a.pk}/").content.decode()
    assert not CaseStudy.objects.exists()


def test_an_appeal_becomes_one_case_only(w):
    services.create_case(w.users[Role.ADMIN], w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    with pytest.raises(services.InputError):
        services.create_case(w.users[Role.ADMIN], w.case_appeal, services.draft_from(w.case_appeal))


def test_who_may_publish(client, w):
    a = w.case_appeal
    task_force = Body.objects.create(region=w.region, code="kn-tf", name="专班", kind=Body.Kind.TASK_FORCE)
    member = User.objects.create_user("kn-tf-member", region=w.region, node=w.center)
    member.grant(Role.SPECIALIST)
    BodyMembership.objects.create(body=task_force, user=member)
    east_supervisor = User.objects.create_user("kn-sup-east", region=w.region, jurisdiction=w.east)
    east_supervisor.grant(Role.SUPERVISOR)
    other_handler = User.objects.create_user("kn-h2", region=w.region, department=w.other_dept)
    other_handler.grant(Role.HANDLER)
    allowed = [w.users[Role.ADMIN], w.users[Role.HANDLER], member, east_supervisor]
    refused = [w.users[Role.FRONT_DESK], w.users[Role.DISPATCHER], w.users[Role.LEADER], w.users[Role.ENTERPRISE],
               w.users[Role.SUPERVISOR],  # the west's supervisor does not see the east's case
               other_handler]
    for user in allowed:
        assert services.may_publish_case(user, a), user
    for user in refused:
        assert not services.may_publish_case(user, a), user
    client.force_login(w.users[Role.HANDLER])
    html = client.get(f"/appeals/{a.pk}/").content.decode()
    assert 'data-testid="publish-case"' in html and f"/knowledge/cases/from-appeal/{a.pk}/" in html
    client.force_login(w.users[Role.DISPATCHER])
    assert 'data-testid="publish-case"' not in client.get(f"/appeals/{a.pk}/").content.decode()
    assert client.get(f"/knowledge/cases/from-appeal/{a.pk}/").status_code == 403
    client.force_login(w.users[Role.ENTERPRISE])
    assert 'data-testid="case-library"' not in client.get(f"/appeals/{a.pk}/").content.decode()
    assert client.get(f"/knowledge/cases/from-appeal/{a.pk}/").status_code == 403  # its own case: seen, not published
    client.force_login(w.west_user)
    assert client.get(f"/knowledge/cases/from-appeal/{a.pk}/").status_code == 404


def test_drafts_and_withdrawn_cases_are_for_staff_and_every_change_is_audited(client, w):
    handler = w.users[Role.HANDLER]
    case = services.create_case(handler, w.case_appeal, services.draft_from(w.case_appeal))
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get(f"/knowledge/cases/{case.pk}/").status_code == 404
    client.force_login(handler)
    assert client.post(f"/knowledge/cases/{case.pk}/state/", {"state": "published"}).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.PUBLISHED and case.published_at
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get(f"/knowledge/cases/{case.pk}/").status_code == 200
    client.force_login(w.users[Role.FRONT_DESK])  # sees it, may not withdraw it
    assert client.get(f"/knowledge/cases/{case.pk}/").status_code == 200
    assert client.post(f"/knowledge/cases/{case.pk}/state/", {"state": "withdrawn"}).status_code == 403
    services.set_case_state(handler, case, CaseState.WITHDRAWN)
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get(f"/knowledge/cases/{case.pk}/").status_code == 404
    trail = AuditEntry.objects.filter(object_id=str(case.pk), content_type__model="casestudy").order_by("at", "pk")
    states = [(e.after or {}).get("state") for e in trail]
    assert states == ["draft", "published", "withdrawn"]
    assert all(e.actor == handler for e in trail)


def test_another_regions_cases_and_entries_are_invisible(client, w):
    case = services.create_case(w.users[Role.ADMIN], w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    other = World("ko")
    for user in (other.users[Role.DISPATCHER], other.users[Role.ENTERPRISE]):
        client.force_login(user)
        assert client.get(f"/knowledge/cases/{case.pk}/").status_code == 404
        assert case.title not in client.get("/knowledge/").content.decode()


# --- knowledge entries ------------------------------------------------------------------------------------

def entry_data(w, **changes):
    data = {"question": "研发费用加计扣除什么时候申报？", "answer": "可在10月预缴申报时享受，也可在汇算清缴时享受。",
            "legal_basis": "研发费用税前加计扣除政策公告", "department": w.dept.pk, "section": w.section.pk,
            "keywords": "加计扣除 研发", "state_action": "publish"}
    data.update(changes)
    return data


def test_staff_write_and_edit_entries_with_an_audited_history(client, w):
    handler = w.users[Role.HANDLER]
    client.force_login(handler)
    assert client.get("/knowledge/entries/new/").status_code == 200
    r = client.post("/knowledge/entries/new/", entry_data(w))
    assert r.status_code == 302
    entry = KnowledgeEntry.objects.get()
    assert entry.state == EntryState.PUBLISHED and entry.created_by == handler and entry.region == w.region
    r = client.post(f"/knowledge/entries/{entry.pk}/edit/", entry_data(w, answer="新的答复。", state_action=""))
    assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.answer == "新的答复。" and entry.state == EntryState.PUBLISHED
    change = AuditEntry.objects.filter(content_type__model="knowledgeentry", object_id=str(entry.pk),
                                       action=AuditEntry.Action.UPDATE).get()
    assert change.before["answer"].startswith("可在10月") and change.after["answer"] == "新的答复。"
    assert change.actor == handler
    html = client.get(f"/knowledge/entries/{entry.pk}/").content.decode()
    assert 'data-testid="history"' in html
    # another unit's handler may read, not edit; an enterprise reads the published entry, never writes
    stranger = User.objects.create_user("kn-h3", region=w.region, department=w.other_dept)
    stranger.grant(Role.HANDLER)
    client.force_login(stranger)
    assert client.get(f"/knowledge/entries/{entry.pk}/").status_code == 200
    assert client.get(f"/knowledge/entries/{entry.pk}/edit/").status_code == 403
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get(f"/knowledge/entries/{entry.pk}/").status_code == 200
    assert client.get("/knowledge/entries/new/").status_code == 403
    assert client.post("/knowledge/entries/new/", entry_data(w)).status_code == 403
    services.save_entry(handler, {}, entry=entry, publish=False)
    assert client.get(f"/knowledge/entries/{entry.pk}/").status_code == 404  # a draft: staff only


def test_an_entry_needs_a_unit_of_the_region(client, w):
    other = World("kx")
    client.force_login(w.users[Role.HANDLER])
    r = client.post("/knowledge/entries/new/", entry_data(w, department=other.dept.pk))
    assert r.status_code == 400 and not KnowledgeEntry.objects.exists()


def make_entries(w):
    author = w.users[Role.HANDLER]
    texts = [("研发费用加计扣除什么时候申报？", "10月预缴时可享受研发费用加计扣除。", "加计扣除"),
             ("新建厂房怎样办理消防验收？", "竣工后向住建局申请消防验收，准备竣工验收报告。", "消防验收 厂房"),
             ("招工难可以申请什么服务？", "人社局举办专场招聘会。", "招聘 用工")]
    return [services.save_entry(author, {"question": q, "answer": a, "keywords": k, "department": w.dept,
                                         "section": w.section}, publish=True) for q, a, k in texts]


def test_search_finds_by_words_and_ranks_the_best_first(client, w):
    entries = make_entries(w)
    services.save_entry(w.users[Role.HANDLER], {"question": "草稿：消防验收的常见问题", "answer": "未完成",
                                                 "department": w.dept}, publish=False)
    services.create_case(w.users[Role.ADMIN], w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    client.force_login(w.users[Role.FRONT_DESK])
    html = client.get("/knowledge/", {"q": "厂房消防验收怎么办理"}).content.decode()
    assert entries[1].question in html and entries[0].question not in html
    assert "某企业厂房消防验收" in html  # the case too
    assert "草稿：消防验收的常见问题" in html  # staff see drafts
    body = client.get("/api/v1/knowledge", {"q": "消防验收"},
                      HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.ENTERPRISE])}").json()
    kinds = [(i["kind"], i["id"]) for i in body["items"]]
    assert ("entry", entries[1].pk) in kinds and ("entry", entries[0].pk) not in kinds
    assert any(k == "case" for k, _id in kinds)
    assert all(i["state"] == "published" for i in body["items"])  # an enterprise: no draft
    assert body["count"] == len(body["items"])
    only = client.get("/api/v1/knowledge", {"kind": "entries", "department": w.other_dept.code},
                      HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.FRONT_DESK])}").json()
    assert only == {"items": [], "count": 0}
    assert client.get("/api/v1/knowledge", {"q": "x" * 101},
                      HTTP_AUTHORIZATION=f"Bearer {w.token(w.users[Role.FRONT_DESK])}").status_code == 400


def test_excel_export_of_entries_and_of_cases(client, w):
    from openpyxl import load_workbook

    entries = make_entries(w)
    services.create_case(w.users[Role.ADMIN], w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    client.force_login(w.users[Role.DISPATCHER])
    r = client.get("/knowledge/", {"format": "xlsx", "q": "消防"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "问题" and [row[0] for row in rows[1:]] == [entries[1].question]
    r = client.get("/knowledge/", {"format": "xlsx", "kind": "cases"})
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "名称" and rows[1][0].startswith("某企业")
    assert all(w.ent_east.name not in str(cell) for row in rows for cell in row)


# --- promotion candidates (从一件事到一类事) -------------------------------------------------------------------

def test_entries_cases_and_recurring_problems_can_be_promoted(client, w):
    entry = make_entries(w)[0]
    for i in range(3):
        appeal(w, "园区道路积水", f"园区门口道路雨天积水严重，货车进出困难{i}。", status=Status.ASSIGNED)
    client.force_login(w.users[Role.DISPATCHER])
    r = client.post("/knowledge/promotions/new/", {"target": f"entry:{entry.pk}", "note": "高频咨询，建议纳入服务清单",
                                                    "next": f"/knowledge/entries/{entry.pk}/"})
    assert r.status_code == 302 and r["Location"] == f"/knowledge/entries/{entry.pk}/"
    promotion = Promotion.objects.get()
    assert promotion.entry == entry and promotion.state == Promotion.State.CANDIDATE
    assert 'data-testid="promoted"' in client.get(f"/knowledge/entries/{entry.pk}/").content.decode()
    # twice is refused; an empty note too
    client.post("/knowledge/promotions/new/", {"target": f"entry:{entry.pk}", "note": "again"})
    client.post("/knowledge/promotions/new/", {"target": f"entry:{entry.pk}", "note": ""})
    assert Promotion.objects.count() == 1
    page = client.get("/knowledge/promotions/")
    assert page.status_code == 200
    groups = page.context["groups"]
    assert groups and groups[0]["count"] == 3 and groups[0]["title"] == "园区道路积水"
    r = client.post("/knowledge/promotions/new/", {"target": f"appeals:{groups[0]['ids']}", "title": "园区道路积水",
                                                    "note": "同类诉求反复出现"})
    recurring = Promotion.objects.exclude(pk=promotion.pk).get()
    assert recurring.kind == "recurring" and recurring.appeals.count() == 3
    assert client.get("/knowledge/promotions/").context["groups"][0]["proposed"] is True
    r = client.get("/knowledge/promotions/", {"format": "xlsx"})
    assert r.status_code == 200
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/knowledge/promotions/").status_code == 403
    assert client.post("/knowledge/promotions/new/", {"target": f"entry:{entry.pk}", "note": "x"}).status_code == 403


# --- the suggestion feeds on the knowledge base -----------------------------------------------------------

def suggest(client, w, user, title, description):
    return client.post("/api/v1/appeals/suggest", {"title": title, "description": description},
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {w.token(user)}").json()


def test_suggest_returns_published_knowledge_entries_and_cases(client, w):
    entries = make_entries(w)
    draft = services.save_entry(w.users[Role.HANDLER], {"question": "消防验收草稿", "answer": "消防验收未定稿",
                                                         "department": w.dept}, publish=False)
    case = services.create_case(w.users[Role.ADMIN], w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    body = suggest(client, w, w.users[Role.DISPATCHER], "消防验收", "新建厂房竣工后怎么办理消防验收")
    assert set(body) == {"section", "lead_department", "similar", "knowledge"}
    found = [(k["kind"], k["id"]) for k in body["knowledge"]]
    assert found[0] in (("entry", entries[1].pk), ("case", case.pk))
    assert ("entry", entries[1].pk) in found and ("case", case.pk) in found
    assert ("entry", draft.pk) not in found and ("entry", entries[2].pk) not in found
    first = body["knowledge"][0]
    assert {"id", "question", "title", "answer", "url", "kind", "score"} <= set(first)
    hit = next(k for k in body["knowledge"] if k["kind"] == "entry")
    assert hit["question"] == entries[1].question and hit["url"] == f"/knowledge/entries/{entries[1].pk}/"
    # the intake page's panel shows them
    client.force_login(w.users[Role.FRONT_DESK])
    html = client.post("/appeals/new/suggest/", {"prefix": "problem-0", "problem-0-title": "消防验收",
                                                 "problem-0-description": "厂房竣工后消防验收"}).content.decode()
    assert 'data-testid="knowledge-hit"' in html and f"/knowledge/entries/{entries[1].pk}/" in html
    # withdrawn: gone from the suggestion at once (the model's stamp follows the case)
    services.set_case_state(w.users[Role.ADMIN], case, CaseState.WITHDRAWN)
    again = suggest(client, w, w.users[Role.DISPATCHER], "消防验收", "新建厂房竣工后怎么办理消防验收")
    assert ("case", case.pk) not in [(k["kind"], k["id"]) for k in again["knowledge"]]


def test_knowledge_entries_teach_routing_their_unit_and_section(client, w):
    zjj = Department.objects.create(region=w.region, code="kn-zjj", name="住建局")
    text = ("雨污管网接驳", "厂区雨污管网接驳市政管网的审批")
    assert suggest(client, w, w.users[Role.DISPATCHER], *text)["lead_department"] is None
    services.save_entry(w.users[Role.ADMIN], {"question": "厂区雨污管网如何接驳市政管网？", "answer": "向住建局申请接驳审批。",
                                              "department": zjj, "section": w.section}, publish=True)
    body = suggest(client, w, w.users[Role.DISPATCHER], *text)
    assert body["lead_department"]["code"] == "kn-zjj"


# --- for the monthly ranking --------------------------------------------------------------------------------

def test_cases_published_counts_by_the_source_appeals_lead_unit_and_the_period(w):
    admin = w.users[Role.ADMIN]
    other = appeal(w, "招工难", "一线操作工缺口较大", reply="已对接招聘会。", lead=w.other_dept)
    third = appeal(w, "用工", "招聘会对接", reply="已办理。")
    first = services.create_case(admin, w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    services.create_case(admin, other, services.draft_from(other), publish=True)
    services.create_case(admin, third, services.draft_from(third))  # a draft does not count
    now = timezone.now()
    month = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=1))
    assert services.cases_published(w.dept, month) == 1
    assert services.cases_published(w.other_dept.pk, month) == 1
    assert services.cases_published(w.dept, (now - datetime.timedelta(days=40), now - datetime.timedelta(days=10))) == 0
    from qifu.appeals import stats

    period = stats.period_from(timezone.localdate().strftime("%Y-%m"), None, None, "Asia/Shanghai")
    assert services.cases_published(w.dept, period) == 1
    services.set_case_state(admin, first, CaseState.WITHDRAWN)
    assert services.cases_published(w.dept, month) == 0


# --- the API does what the pages do ---------------------------------------------------------------------------

def api(client, w, user, method, path, body=None):
    return getattr(client, method)(f"/api/v1{path}", body, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {w.token(user)}")


def test_the_api_writes_entries_publishes_cases_and_marks_candidates(client, w):
    handler, enterprise = w.users[Role.HANDLER], w.users[Role.ENTERPRISE]
    body = {"question": "消防验收怎么申请？", "answer": "向住建局申请。", "unit": w.dept.code, "section": w.section.code,
            "publish": True}
    r = api(client, w, handler, "post", "/knowledge/entries", body)
    assert r.status_code == 201, r.content
    entry_id = r.json()["id"]
    assert r.json()["state"] == "published" and r.json()["unit"]["code"] == w.dept.code
    assert api(client, w, enterprise, "post", "/knowledge/entries", body).status_code == 403
    assert api(client, w, handler, "post", "/knowledge/entries", {**body, "unit": "nope"}).status_code == 400
    r = api(client, w, handler, "put", f"/knowledge/entries/{entry_id}", {**body, "answer": "改了"})
    assert r.status_code == 200 and r.json()["answer"] == "改了"
    # a case: the anonymized draft fills what is not given; a name typed back is refused
    r = api(client, w, handler, "post", "/knowledge/cases", {"appeal_id": w.case_appeal.pk,
                                                            "solution": "已告知东方演示科技。"})
    assert r.status_code == 400 and "东方演示科技" in r.json()["detail"]
    r = api(client, w, handler, "post", "/knowledge/cases", {"appeal_id": w.case_appeal.pk, "publish": True})
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["source_appeal"] == w.case_appeal.number and case["state"] == "published"
    assert all(secret not in str(case) for secret in secrets(w))
    assert api(client, w, w.users[Role.DISPATCHER], "post", f"/knowledge/cases/{case['id']}/state",
               {"state": "withdrawn"}).status_code == 403
    r = api(client, w, handler, "post", f"/knowledge/cases/{case['id']}/state", {"state": "withdrawn"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    # only a closed, solved appeal
    open_case = appeal(w, "消防", "厂房消防验收", status=Status.ASSIGNED)
    assert api(client, w, handler, "post", "/knowledge/cases", {"appeal_id": open_case.pk}).status_code == 400
    # candidates
    r = api(client, w, handler, "post", "/knowledge/promotions", {"entry_id": entry_id, "note": "高频咨询"})
    assert r.status_code == 201 and r.json()["kind"] == "entry"
    r = api(client, w, handler, "post", "/knowledge/promotions", {"appeal_ids": [open_case.pk, w.case_appeal.pk],
                                                                  "note": "共性问题"})
    assert r.status_code == 201 and sorted(r.json()["appeals"]) == sorted([open_case.number, w.case_appeal.number])
    assert api(client, w, handler, "post", "/knowledge/promotions", {"note": "没有对象"}).status_code == 400
    listed = api(client, w, w.users[Role.SUPERVISOR], "get", "/knowledge/promotions").json()
    assert listed["count"] == 2
    assert api(client, w, enterprise, "get", "/knowledge/promotions").status_code == 403


def test_the_ranking_gets_the_cases_published_per_unit(w):
    from qifu.appeals import stats
    from qifu.assessments import providers

    admin = w.users[Role.ADMIN]
    other = appeal(w, "招工难", "一线操作工缺口较大", reply="已对接招聘会。", lead=w.other_dept)
    services.create_case(admin, w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    services.create_case(admin, other, services.draft_from(other), publish=True)
    period = stats.period_from(timezone.localdate().strftime("%Y-%m"), None, None, "Asia/Shanghai")
    month = providers.Month(region=w.region, period=period, now=timezone.now())
    found = providers.collect(["cases_published"], month)["cases_published"]
    assert found == {w.dept.pk: 1, w.other_dept.pk: 1}
    assert found[w.dept.pk] == services.cases_published(w.dept, period)


def test_the_list_filters_by_the_day_of_the_last_change(client, w):
    entries = make_entries(w)
    KnowledgeEntry.objects.filter(pk=entries[0].pk).update(updated_at=timezone.now() - datetime.timedelta(days=30))
    client.force_login(w.users[Role.DISPATCHER])
    today = timezone.localdate()
    page = client.get("/knowledge/", {"date_from": (today - datetime.timedelta(days=1)).isoformat()})
    shown = {e.pk for e in page.context["entries"]}
    assert shown == {entries[1].pk, entries[2].pk}
    wrong = client.get("/knowledge/", {"date_from": today.isoformat(), "date_to": "2000-01-01"})
    assert list(wrong.context["entries"]) == [] and wrong.context["form"].errors
    assert client.get("/knowledge/", {"date_from": today.isoformat(), "date_to": "2000-01-01",
                                      "format": "xlsx"}).status_code == 400


def test_the_rankings_typical_cases_count_the_published_cases(w):
    """典型案例报送 (the default scheme): the case library's published cases plus those entered by hand, 5 points each."""
    from qifu.assessments import ranking
    from qifu.assessments.models import RankingInput

    admin = w.users[Role.ADMIN]
    label = timezone.localdate().strftime("%Y-%m")

    def row():
        table = ranking.compute(w.region, label, with_last=False)
        return next(r for g in table["groups"] for r in g["rows"] if r["unit_id"] == w.dept.pk)

    assert row()["values"]["cases"] == 0 and row()["cases"] == 0
    services.create_case(admin, w.case_appeal, services.draft_from(w.case_appeal), publish=True)
    assert row()["inputs"]["cases_published"] == 1 and row()["cases"] == 5
    RankingInput.objects.create(region=w.region, month=label, unit=w.dept, indicator="cases", value=2, entered_by=admin)
    assert row()["values"]["cases"] == 3 and row()["cases"] == 15

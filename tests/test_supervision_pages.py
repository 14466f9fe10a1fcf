"""Supervision's pages and API (督查督办): on the case page who sees which action (supervisor, task-force member, the
lead unit's handler, another unit's handler, a leader, the enterprise), a slip issued → its 督办单 .docx with the
form's fields → answered by the lead unit; follow-ups of chases; leader instructions; the supervisor's desk; the five
abnormal lists with their counts and Excel exports; the API's endpoints with their 400/403/404."""

import datetime
import io
from urllib.parse import unquote

import pytest
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from qifu.accounts.models import Role
from qifu.appeals.models import Appeal
from qifu.supervision import records
from qifu.supervision.models import Kind, LeaderInstruction, Record, Slip

from .test_ladder import Api, w  # noqa: F401 - the world with the ladder's bodies (task force, meetings)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, w):  # noqa: F811
    w.supervisor.jurisdiction = w.district  # the district's supervisor: oversees every case of the district
    w.supervisor.save(update_fields=["jurisdiction"])
    return Api(client, w)


def _page(client, user, aid) -> str:
    client.force_login(user)
    r = client.get(f"/appeals/{aid}/")
    assert r.status_code == 200
    return r.content.decode()


def _chase(appeal_id, kind=Kind.CHASE) -> Record:
    appeal = Appeal.objects.get(pk=appeal_id)
    return Record.objects.create(appeal=appeal, kind=kind, at=timezone.now(), deadline=appeal.due_at,
                                 lead_department_id=appeal.lead_department_id, told=[{"id": 1, "name": "张三"}])


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows
                                                         for c in row.cells])


def test_who_sees_which_supervision_action_on_the_case_page(client, api, w):  # noqa: F811
    aid = api.case()
    _chase(aid)
    page = _page(client, w.supervisor, aid)
    assert 'data-testid="supervision"' in page and 'data-testid="issue-slip"' in page
    assert 'data-testid="follow-up"' in page and 'data-testid="instruct"' not in page
    # the form's defaults: the case's units, the answer day of the region's rule
    assert 'value="w-fgj" selected' in page and 'value="w-rsj" selected' in page
    assert records.default_reply_due(Appeal.objects.get(pk=aid)).isoformat() in page
    page = _page(client, w.task_force_handler, aid)  # another unit's officer, a member of the task force
    assert 'data-testid="issue-slip"' in page and 'data-testid="follow-up"' in page
    page = _page(client, w.handler, aid)  # the lead unit sees its chases, but does not issue slips
    assert 'data-testid="supervision"' in page and 'data-testid="record-chase"' in page
    assert 'data-testid="issue-slip"' not in page and 'data-testid="follow-up"' not in page
    page = _page(client, w.leader, aid)
    assert 'data-testid="instruct"' in page and 'data-testid="issue-slip"' not in page
    page = _page(client, w.users[Role.ENTERPRISE], aid)
    assert 'data-testid="supervision"' not in page and "催办" not in page
    client.force_login(w.street_handler)  # another unit, not on the case: cannot see it at all
    assert client.get(f"/appeals/{aid}/").status_code == 404
    assert client.post(f"/appeals/{aid}/slips/", {"task": "x", "requirements": "y"}).status_code == 404
    client.force_login(w.handler)
    assert client.post(f"/appeals/{aid}/slips/", {"task": "x", "requirements": "y"}).status_code == 403
    assert client.post(f"/appeals/{aid}/instructions/", {"text": "x"}).status_code == 403


def test_a_slip_is_issued_downloaded_and_answered_by_the_lead_unit(client, api, w):  # noqa: F811
    aid = api.case()
    client.force_login(w.supervisor)
    due = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    form = {"task": "督促办理园区道路积水问题", "requirements": "3个工作日内书面答复办理进展", "reply_due": due,
            "lead_department": "w-fgj", "assisting_departments": ["w-rsj", "w-street"], "cc": "区委办、区政府办",
            "contact_name": "李督查", "contact_phone": "0571-86001234", "remarks": "请高度重视"}
    r = client.post(f"/appeals/{aid}/slips/", {**form, "task": ""})  # a required field missing: the form again
    assert r.status_code == 400 and 'data-testid="error-task"' in r.content.decode()
    r = client.post(f"/appeals/{aid}/slips/", {**form, "reply_due": "2020-01-01"})  # refused by the domain
    assert r.status_code == 400 and 'data-testid="issue-slip-error"' in r.content.decode()
    r = client.post(f"/appeals/{aid}/slips/", form)
    assert r.status_code == 302
    slip = Slip.objects.get()
    assert slip.number.endswith("-0001") and slip.state() == "awaiting"
    assert sorted(slip.assisting_departments.values_list("code", flat=True)) == ["w-rsj", "w-street"]
    page = _page(client, w.supervisor, aid)
    assert 'data-testid="slip-state-awaiting"' in page and 'data-testid="slip-badge"' in page
    assert 'data-testid="record-slip"' in page

    r = client.get(f"/supervision/slips/{slip.pk}.docx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "督办单" in unquote(r["Content-Disposition"])
    text = _docx_text(r.content)
    for expected in ("工作专班督办单", "督办编号", slip.number, "督办日期", "督办任务", "督促办理园区道路积水问题",
                     "主办单位", "发改局", "协办单位", "人社局", "东街道", "办理要求", "3个工作日内书面答复办理进展",
                     "抄送", "区委办、区政府办", "联系人", "李督查", "电话", "0571-86001234", "备注", "请高度重视",
                     "答复期限"):
        assert expected in text, expected
    client.force_login(w.users[Role.ENTERPRISE])  # the enterprise sees the case, never its slips
    assert client.get(f"/supervision/slips/{slip.pk}.docx").status_code == 404
    client.force_login(w.street_handler)
    assert client.get(f"/supervision/slips/{slip.pk}.docx").status_code in (404,)

    # the answer: the lead unit's handler only
    page = _page(client, w.supervisor, aid)
    assert 'data-testid="answer-slip"' not in page
    assert client.post(f"/supervision/slips/{slip.pk}/answer/", {"answer": "x"}).status_code == 403
    page = _page(client, w.handler, aid)
    assert 'data-testid="answer-slip"' in page
    r = client.post(f"/supervision/slips/{slip.pk}/answer/", {"answer": "  "})
    assert r.status_code == 400 and 'data-testid="error-answer"' in r.content.decode()
    r = client.post(f"/supervision/slips/{slip.pk}/answer/", {"answer": "已完成排水管网疏通，积水已消除"})
    assert r.status_code == 302
    slip.refresh_from_db()
    assert slip.state() == "answered" and slip.answered_by == w.handler
    page = _page(client, w.supervisor, aid)
    assert 'data-testid="slip-state-answered"' in page and "已完成排水管网疏通" in page
    assert 'data-testid="slip-badge"' not in page
    client.force_login(w.handler)
    r = client.post(f"/supervision/slips/{slip.pk}/answer/", {"answer": "again"})
    assert r.status_code == 400 and 'data-testid="action-error"' in r.content.decode()


def test_follow_up_and_instruction_from_the_case_page(client, api, w):  # noqa: F811
    aid = api.case()
    chase = _chase(aid)
    warning = _chase(aid, Kind.WARNING)
    client.force_login(w.handler)
    assert client.post(f"/supervision/records/{chase.pk}/follow-up/", {"note": "x"}).status_code == 403
    client.force_login(w.supervisor)
    assert client.post(f"/supervision/records/{warning.pk}/follow-up/", {"note": "x"}).status_code == 404
    r = client.post(f"/supervision/records/{chase.pk}/follow-up/", {"note": ""})
    assert r.status_code == 400
    r = client.post(f"/supervision/records/{chase.pk}/follow-up/", {"note": "已电话催办发改局王科长"})
    assert r.status_code == 302
    chase.refresh_from_db()
    assert chase.done_by == w.supervisor and chase.done_note == "已电话催办发改局王科长"
    assert 'data-testid="record-followed-up"' in _page(client, w.supervisor, aid)

    client.force_login(w.leader)
    assert client.post(f"/appeals/{aid}/instructions/", {"text": ""}).status_code == 400
    r = client.post(f"/appeals/{aid}/instructions/", {"text": "请发改局抓紧办理，本周内反馈"})
    assert r.status_code == 302 and LeaderInstruction.objects.get().leader == w.leader
    page = _page(client, w.handler, aid)
    assert 'data-testid="instructed-badge"' in page and "请发改局抓紧办理" in page
    page = _page(client, w.users[Role.ENTERPRISE], aid)
    assert "请发改局抓紧办理" not in page and 'data-testid="instructed-badge"' not in page
    client.force_login(w.leader)
    home = client.get("/").content.decode()
    assert 'data-testid="home-instructed-case"' in home and "请发改局抓紧办理" in home


def test_the_supervisors_desk(client, api, w):  # noqa: F811
    aid, other = api.case(), api.case()
    old, new = _chase(aid), _chase(other, Kind.INSPECTION)
    Record.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=1))
    done = _chase(other)
    records.follow_up(done.pk, w.supervisor, "已办")
    slip = records.issue_slip(aid, w.supervisor, task="督办", requirements="尽快")
    late = records.issue_slip(other, w.supervisor, task="督办", requirements="尽快")
    Slip.objects.filter(pk=late.pk).update(reply_due=timezone.localdate() - datetime.timedelta(days=1))
    records.instruct(aid, w.leader, "抓紧")

    client.force_login(w.supervisor)
    home = client.get("/").content.decode()
    assert 'data-testid="home-desk-link"' in home and "督查督办" in home
    page = client.get("/supervision/").content.decode()
    assert page.count('data-testid="followup-row"') == 2 and 'data-testid="followup-count">2<' in page
    assert page.index(Appeal.objects.get(pk=other).number) < page.index(Appeal.objects.get(pk=aid).number)
    assert page.count('data-testid="slip-row"') == 2 and 'data-testid="slip-state-overdue"' in page
    assert 'data-testid="abnormal-count-leader_instructed">1<' in page
    r = client.post(f"/supervision/records/{new.pk}/follow-up/", {"note": "已赴现场督查", "next": "desk"})
    assert r.status_code == 302 and r["Location"] == "/supervision/"
    assert client.get("/supervision/").content.decode().count('data-testid="followup-row"') == 1
    records.answer_slip(slip.pk, w.handler, "已办")
    assert client.get("/supervision/").content.decode().count('data-testid="slip-row"') == 1

    client.force_login(w.task_force_handler)  # a member of the task force in another role: the desk, in the nav
    assert client.get("/supervision/").status_code == 200
    assert "/supervision/" in client.get("/").content.decode()
    for user in (w.handler, w.leader, w.users[Role.ENTERPRISE]):
        client.force_login(user)
        assert client.get("/supervision/").status_code == 403


def test_the_abnormal_lists_count_per_unit_filter_and_export(client, api, w):  # noqa: F811
    first, second, third = api.case(), api.case(), api.case(lead=w.street.code)
    for aid in (first, third):
        records.instruct(aid, w.leader, "批示")
    client.force_login(w.supervisor)
    page = client.get("/supervision/abnormal/leader_instructed/").content.decode()
    assert page.count('data-testid="abnormal-row"') == 2 and page.count('data-testid="unit-count"') == 2
    assert "发改局" in page and "东街道" in page
    page = client.get("/supervision/abnormal/leader_instructed/?lead_department=w-street").content.decode()
    assert page.count('data-testid="abnormal-row"') == 1
    export = client.get("/supervision/abnormal/leader_instructed/?format=xlsx")
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert len(rows) == 3 and {rows[1][0], rows[2][0]} == set(
        Appeal.objects.filter(pk__in=(first, third)).values_list("number", flat=True))
    for name in records.ABNORMAL:
        assert client.get(f"/supervision/abnormal/{name}/").status_code == 200
    assert client.get("/supervision/abnormal/nope/").status_code == 404
    # the ordinary list filters by it too; an enterprise gets no such filter
    page = client.get("/appeals/?abnormal=leader_instructed").content.decode()
    assert Appeal.objects.get(pk=first).number in page and Appeal.objects.get(pk=second).number not in page
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/supervision/abnormal/leader_instructed/").status_code == 403
    page = client.get("/appeals/?abnormal=leader_instructed").content.decode()
    assert Appeal.objects.get(pk=second).number in page


# --- the API ------------------------------------------------------------------------------------------------

def _post(client, w, user, url, body):  # noqa: F811
    return client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {w.token(user)}")


def _get(client, w, user, url):  # noqa: F811
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {w.token(user)}")


def test_the_api_issues_answers_and_downloads_slips(client, api, w):  # noqa: F811
    aid = api.case()
    url = f"/api/v1/appeals/{aid}/slips"
    r = _post(client, w, w.supervisor, url, {"task": "督办", "requirements": "x" * 10001})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "requirements"
    r = _post(client, w, w.supervisor, url, {"task": "督办", "requirements": "尽快", "contact_phone": "1" * 33})
    assert r.status_code == 400
    r = _post(client, w, w.supervisor, url, {"task": "督办", "requirements": "尽快", "lead_department": "nope"})
    assert r.status_code == 400 and "nope" in r.json()["detail"]
    r = _post(client, w, w.supervisor, url, {"task": "督办", "requirements": "尽快", "reply_due": "2020-01-01"})
    assert r.status_code == 400
    assert _post(client, w, w.handler, url, {"task": "督办", "requirements": "尽快"}).status_code == 403
    assert _post(client, w, w.street_handler, url, {"task": "督办", "requirements": "尽快"}).status_code == 404
    assert _post(client, w, w.supervisor, "/api/v1/appeals/999999/slips",
                 {"task": "督办", "requirements": "尽快"}).status_code == 404
    r = _post(client, w, w.supervisor, url, {"task": "督办", "requirements": "尽快"})
    assert r.status_code == 201, r.content
    slip = r.json()
    assert slip["state"] == "awaiting" and slip["lead_department"] == "w-fgj"
    assert slip["assisting_departments"] == ["w-rsj"]
    assert slip["reply_due"] == records.default_reply_due(Appeal.objects.get(pk=aid)).isoformat()

    sid = slip["id"]
    r = _get(client, w, w.supervisor, f"/api/v1/slips/{sid}.docx")
    assert r.status_code == 200 and slip["number"] in _docx_text(r.content)
    assert _get(client, w, w.users[Role.ENTERPRISE], f"/api/v1/slips/{sid}.docx").status_code == 404
    assert _get(client, w, w.users[Role.ENTERPRISE], f"/api/v1/slips/{sid}").status_code == 404
    assert _get(client, w, w.supervisor, f"/api/v1/slips/{sid}").json()["number"] == slip["number"]
    answer = f"/api/v1/slips/{sid}/answer"
    assert _post(client, w, w.supervisor, answer, {"answer": "已办"}).status_code == 403
    assert _post(client, w, w.users[Role.ENTERPRISE], answer, {"answer": "已办"}).status_code == 404
    assert _post(client, w, w.handler, answer, {"answer": ""}).status_code == 400
    assert _post(client, w, w.handler, answer, {}).status_code == 400
    r = _post(client, w, w.handler, answer, {"answer": "已办结"})
    assert r.status_code == 200 and r.json()["state"] == "answered"
    assert _post(client, w, w.handler, answer, {"answer": "again"}).status_code == 400
    assert _post(client, w, w.handler, "/api/v1/slips/999999/answer", {"answer": "x"}).status_code == 404

    detail = _get(client, w, w.supervisor, f"/api/v1/appeals/{aid}").json()
    assert detail["slips"][0]["state"] == "answered" and detail["supervision"][0]["kind"] == "slip"
    enterprise = _get(client, w, w.users[Role.ENTERPRISE], f"/api/v1/appeals/{aid}").json()
    assert enterprise["slips"] == [] and enterprise["supervision"] == []


def test_the_api_gives_instructions_and_records_follow_ups(client, api, w):  # noqa: F811
    aid = api.case()
    url = f"/api/v1/appeals/{aid}/instructions"
    assert _post(client, w, w.supervisor, url, {"text": "抓紧"}).status_code == 403
    assert _post(client, w, w.leader, url, {"text": ""}).status_code == 400
    assert _post(client, w, w.leader, url, {"text": "x" * 10001}).status_code == 400
    assert _post(client, w, w.leader, "/api/v1/appeals/999999/instructions", {"text": "x"}).status_code == 404
    r = _post(client, w, w.leader, url, {"text": "抓紧办理"})
    assert r.status_code == 201 and r.json()["text"] == "抓紧办理"
    assert _get(client, w, w.users[Role.ENTERPRISE], f"/api/v1/appeals/{aid}").json()["leader_instructions"] == []

    chase = _chase(aid)
    rid = _get(client, w, w.supervisor, f"/api/v1/appeals/{aid}").json()["supervision"][0]["id"]
    assert rid == chase.pk
    url = f"/api/v1/supervision/records/{rid}/follow-up"
    assert _post(client, w, w.handler, url, {"note": "x"}).status_code == 403
    assert _post(client, w, w.users[Role.ENTERPRISE], url, {"note": "x"}).status_code == 404
    assert _post(client, w, w.supervisor, url, {"note": ""}).status_code == 400
    assert _post(client, w, w.supervisor, "/api/v1/supervision/records/999999/follow-up",
                 {"note": "x"}).status_code == 404
    r = _post(client, w, w.supervisor, url, {"note": "已电话催办"})
    assert r.status_code == 200 and r.json()["follow_up"] == "已电话催办" and r.json()["followed_up_at"]
    assert _post(client, w, w.supervisor, url, {"note": "again"}).status_code == 400

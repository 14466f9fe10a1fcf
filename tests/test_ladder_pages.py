"""The ladder's pages: the escalation card and forms on the case page (only for those the seeds give them), the
leader's meetings page, a meeting's decisions becoming tasks on the case, and the lists of escalated and fallback
cases with their filters and Excel exports."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from qifu.accounts.models import Role
from qifu.appeals.models import Appeal, AppealAttachment, AppealTask, Meeting

from .test_ladder import Api, w  # noqa: F401 - the fixture with the ladder's bodies

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, w):  # noqa: F811
    return Api(client, w)


def _files(names=("handling_statement", "meeting_minutes", "sign_in_sheet")):
    return {name: SimpleUploadedFile(f"{name}.pdf", b"%PDF-1.4 page") for name in names}


def test_the_lead_unit_requests_escalation_from_the_case_page_with_the_files(client, api, w):  # noqa: F811
    aid = api.case()
    client.force_login(w.users[Role.DISPATCHER])
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert 'data-testid="action-escalate"' not in page and 'data-testid="action-decide_escalation"' not in page
    client.force_login(w.handler)
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert 'data-testid="action-escalate"' in page and 'enctype="multipart/form-data"' in page
    assert "问题办理情况说明" in page and "前期协调情况" in page and 'data-testid="ladder"' in page
    version = Appeal.objects.get(pk=aid).version

    # a file missing: refused, nothing kept
    r = client.post(f"/appeals/{aid}/actions/escalate/", {"version": version, "reason": "申请提级", "statement": "已协调",
                                                         **_files(("handling_statement", "meeting_minutes"))})
    assert r.status_code == 400 and 'data-testid="error-sign_in_sheet"' in r.content.decode()
    assert not AppealAttachment.objects.filter(appeal_id=aid).exists()
    # a bad file: refused by the upload check, nothing kept
    bad = {**_files(), "sign_in_sheet": SimpleUploadedFile("签到表.pdf", b"<html><script></script></html>")}
    r = client.post(f"/appeals/{aid}/actions/escalate/", {"version": version, "reason": "申请提级", "statement": "已协调",
                                                         **bad})
    assert r.status_code == 400 and not AppealAttachment.objects.filter(appeal_id=aid).exists()

    r = client.post(f"/appeals/{aid}/actions/escalate/", {"version": version, "reason": "申请提级", "statement": "已协调",
                                                         **_files()})
    assert r.status_code == 302
    appeal = Appeal.objects.get(pk=aid)
    assert appeal.escalation_pending
    assert sorted(appeal.attachments.values_list("kind", flat=True)) == [
        "handling_statement", "meeting_minutes", "sign_in_sheet"]
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert 'data-testid="escalation-pending"' in page and 'data-testid="escalation-form"' in page
    assert 'data-testid="action-escalate"' not in page  # one request at a time

    # the task force member decides on the page: refusal → second assignment
    client.force_login(w.supervisor)
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert 'data-testid="action-decide_escalation"' in page
    r = client.post(f"/appeals/{aid}/actions/decide_escalation/", {
        "version": appeal.version, "approve": "no", "note": "不符合提级条件", "lead_department": "w-street",
        "assisting_departments": ["w-platform"]})
    assert r.status_code == 302
    appeal.refresh_from_db()
    assert appeal.lead_department.code == "w-street" and not appeal.escalation_pending
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert "二次交办" in page
    # the enterprise sees that its case moved, not what the units and bodies told each other
    client.force_login(w.users[Role.ENTERPRISE])
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert "不符合提级条件" not in page and "已协调" not in page and 'data-testid="ladder"' not in page


def test_the_leaders_page_shows_what_awaits_the_meetings_they_chair_and_a_meeting_makes_tasks(client, api, w):  # noqa: F811
    aid = api.case()
    api.files(aid, w.handler)
    api.escalate(aid, w.handler)
    api.act(aid, "decide_escalation", w.supervisor, approve=True)
    api.files(aid, w.supervisor)
    api.escalate(aid, w.supervisor)

    client.force_login(w.leader)
    page = client.get("/meetings/").content.decode()
    assert 'data-testid="body-w-zlh"' in page and 'data-testid="decide-link"' in page
    assert '<span class="badge text-bg-warning" data-testid="to-decide-count">1</span>' in page
    assert "协调会议" in client.get("/").content.decode()  # in the navigation
    r = client.post("/meetings/", {"body": "w-zlh", "held_on": datetime.date.today().isoformat(), "title": ""})
    assert r.status_code == 302
    meeting = Meeting.objects.get()
    assert list(meeting.agenda.values_list("appeal_id", flat=True)) == [aid]
    page = client.get(r["Location"]).content.decode()
    item = meeting.agenda.get()
    due = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    r = client.post(f"/meetings/{meeting.pk}/", {"item": item.pk, f"item{item.pk}-conclusion": "由东街道牵头",
                                                 f"item{item.pk}-task": "报送整改方案"})
    assert r.status_code == 400 and 'data-testid="decision-error"' in r.content.decode()
    r = client.post(f"/meetings/{meeting.pk}/", {"item": item.pk, f"item{item.pk}-conclusion": "由东街道牵头",
                                                 f"item{item.pk}-task": "报送整改方案",
                                                 f"item{item.pk}-owner_department": "w-street",
                                                 f"item{item.pk}-due_on": due})
    assert r.status_code == 302
    task = AppealTask.objects.get()
    assert (task.owner_department.code, task.due_on.isoformat(), task.meeting_id) == ("w-street", due, meeting.pk)
    r = client.post(f"/meetings/{meeting.pk}/minutes/", {"minutes": "会议研究了积水问题。"})
    assert r.status_code == 302 and Meeting.objects.get().minutes == "会议研究了积水问题。"
    r = client.post(f"/meetings/{meeting.pk}/files/", {"kind": "sign_in_sheet",
                                                     "file": SimpleUploadedFile("签到表.pdf", b"%PDF-1.4 x")})
    assert r.status_code == 302 and meeting.attachments.get().kind == "sign_in_sheet"
    export = client.get(f"/meetings/{meeting.pk}/?format=xlsx")
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert rows[1][1] == Appeal.objects.get(pk=aid).number and "报送整改方案" in rows[1][6]

    # the task on the case page: its owner marks it done; the others get no button and cannot
    client.force_login(w.handler)
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert 'data-testid="tasks"' in page and "报送整改方案" in page and 'data-testid="task-done"' not in page
    assert client.post(f"/appeals/{aid}/tasks/{task.pk}/done/").status_code == 403
    client.force_login(w.street_handler)  # the owner unit sees the case through its task
    page = client.get(f"/appeals/{aid}/").content.decode()
    assert 'data-testid="task-done"' in page and 'data-testid="action-escalate"' not in page
    assert client.post(f"/appeals/{aid}/tasks/{task.pk}/done/", {"note": "已报送"}).status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == w.street_handler and task.done_note == "已报送"
    assert 'data-testid="task-state-done"' in client.get(f"/appeals/{aid}/").content.decode()

    # someone outside the body does not see the meeting
    client.force_login(w.boss)
    assert client.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert "data-testid=\"no-bodies\"" not in client.get("/meetings/").content.decode()  # boss: principal leaders
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/meetings/").status_code == 403


def test_the_lists_of_escalated_and_fallback_cases_filter_and_export(client, api, w):  # noqa: F811
    escalated, fallback, plain = api.case(), api.case(category="single"), api.case()
    api.files(escalated, w.handler)
    api.escalate(escalated, w.handler)
    api.act(fallback, "classify", w.users[Role.DISPATCHER], category="fallback_chief",
            fallback_reasons=["no_lead", "special_group"])

    client.force_login(w.users[Role.DISPATCHER])
    page = client.get("/appeals/escalated/").content.decode()
    assert page.count('data-testid="ladder-row"') == 1 and Appeal.objects.get(pk=escalated).number in page
    assert client.get("/appeals/escalated/?pending=no").content.decode().count('data-testid="ladder-row"') == 0
    rows = list(load_workbook(io.BytesIO(client.get("/appeals/escalated/?format=xlsx").content)).active.values)
    assert len(rows) == 2 and rows[1][0] == Appeal.objects.get(pk=escalated).number

    page = client.get("/appeals/fallback/").content.decode()
    assert page.count('data-testid="ladder-row"') == 1 and "多部门无牵头" in page
    for query, count in (("reason=special_group", 1), ("reason=no_place", 0), ("category=fallback_on_spot", 0),
                         ("category=fallback_chief&open=yes", 1)):
        assert client.get(f"/appeals/fallback/?{query}").content.decode().count('data-testid="ladder-row"') == count
    export = client.get("/appeals/fallback/?reason=no_lead&format=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert rows[1][0] == Appeal.objects.get(pk=fallback).number and rows[1][4] == "多部门无牵头、特殊群体（老幼孕残外）"
    assert Appeal.objects.get(pk=plain).number not in page
    client.force_login(w.users[Role.ENTERPRISE])
    assert client.get("/appeals/fallback/").status_code == 403

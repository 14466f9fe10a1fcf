"""The escalation ladder clicked through in a real browser: the lead unit requests escalation with the
提级协调审批表's fields and its three files, the task force approves, the task force asks the weekly coordination
meeting, its chair (the leader) finds the request on the meetings page and approves — level 3; and a refusal by
the task force that becomes a second assignment to a street and a platform."""

import pytest

from qifu.appeals.models import Appeal

from ..test_ladder import Api, w  # noqa: F401 - the world with the ladder's bodies
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user):
    page.context.clear_cookies()
    login(page, user.username)


def do(page, action):
    with page.expect_navigation():
        page.click(f'[data-testid="do-{action}"]')
    page.wait_for_load_state("networkidle")


def request_escalation(page, reason, statement, prefix):
    page.fill("#id_escalate_reason", reason)
    page.fill("#id_escalate_statement", statement)
    for kind in ("handling_statement", "meeting_minutes", "sign_in_sheet"):
        page.set_input_files(f"#id_escalate_{kind}", files=[{
            "name": f"{prefix}-{kind}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 browser"}])
    do(page, "escalate")
    assert page.locator('[data-testid="escalation-pending"]').is_visible()


def level(page) -> str:
    return page.locator('[data-testid="ladder-current"]').inner_text()


def test_an_escalation_climbs_to_the_weekly_meeting_and_a_refusal_is_a_second_assignment(page, client, w):  # noqa: F811
    api = Api(client, w)
    aid, refused = api.case(), api.case()

    # 1. the lead unit's handler: the form with its fields and the three files
    sign_in(page, w.handler)
    page.goto(f"/appeals/{aid}/")
    assert "第1级" in level(page)
    page.fill("#id_escalate_reason", "部门协调后仍不能解决")
    page.fill("#id_escalate_statement", "已召开专题协调会")
    do(page, "escalate")  # no files: refused, with the missing file named at its field
    assert page.locator('[data-testid="error-sign_in_sheet"]').is_visible()
    request_escalation(page, "部门协调后仍不能解决，申请提级协调", "已召开专题协调会，主办和协办部门意见不一致", "unit")
    assert page.locator('[data-testid="attachment-kind"]').count() == 3
    with page.expect_download() as download:
        page.click('[data-testid="escalation-form"]')
    assert download.value.suggested_filename.endswith(".docx") and "提级协调审批表" in download.value.suggested_filename

    # 2. a member of the task force approves: level 2, and asks the weekly meeting with new files
    sign_in(page, w.supervisor)
    page.goto(f"/appeals/{aid}/")
    page.check("#id_decide_escalation_approve_0")
    page.fill("#id_decide_escalation_note", "同意，专班协调")
    do(page, "decide_escalation")
    assert "第2级" in level(page) and page.locator('[data-testid="coordinating-body"]').inner_text() == "工作专班"
    request_escalation(page, "专班协调后仍未解决", "专班召开协调会1次，仍需分管区领导统筹", "taskforce")

    # 3. the leader in charge finds it on the meetings page and approves: level 3
    sign_in(page, w.leader)
    page.click('nav >> text=协调会议')
    page.wait_for_url("**/meetings/")
    assert page.locator('[data-testid="to-decide-count"]').first.inner_text() == "1"
    with page.expect_navigation():
        page.click('[data-testid="decide-link"]')
    page.check("#id_decide_escalation_approve_0")
    page.fill("#id_decide_escalation_note", "提交周例会研究")
    do(page, "decide_escalation")
    assert "第3级" in level(page)
    assert page.locator('[data-testid="escalation-level"]').inner_text().startswith("第3级")
    appeal = Appeal.objects.get(pk=aid)
    assert (appeal.escalation_level, appeal.escalation_pending, appeal.attachments.count()) == (3, False, 6)

    # 4. a refusal: the task force assigns the case again to a street, with a platform assisting
    sign_in(page, w.handler)
    page.goto(f"/appeals/{refused}/")
    request_escalation(page, "申请提级", "已协调", "refused")
    sign_in(page, w.supervisor)
    page.goto(f"/appeals/{refused}/")
    form = page.locator('[data-testid="action-decide_escalation"]')
    form.locator('#id_decide_escalation_approve_1').check()
    page.fill("#id_decide_escalation_note", "不符合提级条件，由属地牵头")
    page.select_option("#id_decide_escalation_lead_department", "w-street")
    for box in form.locator('input[name="assisting_departments"]').all():
        box.set_checked(box.get_attribute("value") == "w-platform")
    do(page, "decide_escalation")
    assert page.locator('[data-testid="lead-department"]').inner_text() == "东街道"
    assert page.locator('[data-testid="assisting-departments"]').inner_text() == "医药港管理办公室"
    assert "二次交办" in page.locator('[data-testid="event-reassign"]').inner_text()
    assert "第1级" in level(page) and not page.locator('[data-testid="escalation-pending"]').count()

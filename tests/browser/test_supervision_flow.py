"""A supervision slip (督办单) clicked through in a real browser: a supervisor of the task force issues a slip on a
slow case from its page (the form prefilled with the case's units and the answer day), downloads the 督办单 as
Word, the lead unit's handler finds it on the case and answers it, and the supervisor sees it answered — on the
case and on the supervision desk."""

import pytest

from qifu.supervision.models import Slip

from ..test_ladder import Api, w  # noqa: F401 - the world with the ladder's bodies
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user):
    page.context.clear_cookies()
    login(page, user.username)


def submit(page, testid):
    with page.expect_navigation():
        page.click(f'[data-testid="{testid}"]')
    page.wait_for_load_state("networkidle")


def test_a_supervisor_issues_a_slip_and_the_lead_unit_answers_it(page, client, w):  # noqa: F811
    w.supervisor.jurisdiction = w.district
    w.supervisor.save(update_fields=["jurisdiction"])
    aid = Api(client, w).case()

    # 1. the supervisor: from the desk in the navigation to the case, the slip's form prefilled
    sign_in(page, w.supervisor)
    page.click('nav >> text=督查督办')
    page.wait_for_url("**/supervision/")
    page.goto(f"/appeals/{aid}/")
    page.click('[data-testid="open-issue-slip"]')
    assert page.input_value("#id_slip_lead_department") == "w-fgj"
    assert page.input_value("#id_slip_reply_due")
    page.fill("#id_slip_task", "")
    page.fill("#id_slip_requirements", "3个工作日内书面答复办理进展")
    submit(page, "do-issue-slip")  # the task left empty: the form again, with the error at its field
    assert page.locator('[data-testid="error-task"]').is_visible()
    page.fill("#id_slip_task", "督促办理园区道路积水问题")
    page.fill("#id_slip_requirements", "3个工作日内书面答复办理进展")
    page.fill("#id_slip_cc", "区委办")
    page.fill("#id_slip_remarks", "请高度重视")
    submit(page, "do-issue-slip")
    assert page.locator('[data-testid="slip-state-awaiting"]').is_visible()
    assert page.locator('[data-testid="slip-badge"]').is_visible()
    number = Slip.objects.get().number
    assert page.locator('[data-testid="slip-number"]').inner_text() == number
    with page.expect_download() as download:
        page.click('[data-testid="slip-docx"]')
    assert download.value.suggested_filename == f"督办单-{number}.docx"

    # 2. the lead unit's handler answers it on the case
    sign_in(page, w.handler)
    page.goto(f"/appeals/{aid}/")
    assert page.locator('[data-testid="answer-slip"]').is_visible()
    page.fill(f"#id_answer_{Slip.objects.get().pk}_answer", "已完成排水管网疏通，积水已消除")
    submit(page, "do-answer-slip")
    assert page.locator('[data-testid="slip-state-answered"]').is_visible()

    # 3. the supervisor sees it answered, and no longer awaiting on the desk
    sign_in(page, w.supervisor)
    page.goto(f"/appeals/{aid}/")
    assert page.locator('[data-testid="slip-state-answered"]').is_visible()
    assert "已完成排水管网疏通" in page.locator('[data-testid="slip-answer"]').inner_text()
    page.goto("/supervision/")
    assert page.locator('[data-testid="slip-count"]').inner_text() == "0"

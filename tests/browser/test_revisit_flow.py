"""A revisit call (回访) clicked through in a real browser: the front desk opens the revisit queue from the
navigation, finds the closed whistle case (difficult: always revisited), records that the enterprise is not
satisfied, and the case is being handled again by its lead unit — with a fresh time limit and the revisit in its
history; the queue shows the call as done."""

import pytest

from qifu.accounts.models import Role
from qifu.appeals import workflow
from qifu.appeals.models import Appeal

from ..test_ladder import Api, w  # noqa: F401 - the world with the ladder's bodies
from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def submit(page, testid):
    with page.expect_navigation():
        page.click(f'[data-testid="{testid}"]')
    page.wait_for_load_state("networkidle")


def test_a_dissatisfied_revisit_reopens_the_case(page, client, w):  # noqa: F811
    aid = Api(client, w).case(category="whistle")
    handler = w.handler
    workflow.perform(aid, "reply", handler, resolution="solved", text="已疏通排水管网")
    workflow.perform(aid, "mark_handled", handler)
    workflow.perform(aid, "confirm", w.users[Role.ENTERPRISE], rating=4)
    appeal = Appeal.objects.get(pk=aid)
    assert appeal.status == "closed"
    revisit = appeal.revisits.get()
    old_due = appeal.due_at

    login(page, w.users[Role.FRONT_DESK].username)
    page.click("nav >> text=回访")
    page.wait_for_url("**/appeals/revisits/")
    row = page.locator(f'[data-testid="revisit-row"][data-number="{appeal.number}"]')
    assert "疑难件" in row.inner_text()
    row.locator(f"#id_r{revisit.pk}-outcome").select_option("dissatisfied")
    row.locator(f"#id_r{revisit.pk}-note").fill("雨后仍有积水，企业不满意")
    with page.expect_navigation():
        row.locator('[data-testid="do-revisit"]').click()
    page.wait_for_load_state("networkidle")
    assert "重新办理" in page.locator(".alert").first.inner_text()
    done = page.locator(f'[data-testid="revisit-row"][data-number="{appeal.number}"]')
    assert done.locator('[data-testid="revisit-outcome"]').inner_text() == "不满意"

    done.locator('[data-testid="appeal-number"]').click()
    page.wait_for_url(f"**/appeals/{aid}/")
    page.wait_for_load_state("networkidle")
    body = page.locator("main").inner_text()
    assert "办理中" in body
    assert "回访不满意" in body and "雨后仍有积水" in body
    appeal.refresh_from_db()
    assert appeal.status == "assigned" and appeal.dissatisfied_count == 1 and appeal.due_at > old_due

"""The Chinese UI, page by page: error pages, messages of forms and the formula checker, conditions and
formulas in words for enterprises, no 申报 where the enterprise does not qualify, the API docs without CDN."""

import re

import pytest
from django.test import Client

from qifu.accounts.models import Role, User
from qifu.enterprises.models import Enterprise
from qifu.rules.values import RuleError
from qifu.policies.models import Application, Policy, PolicyClause

from . import chinese
from .test_policies import library, world  # noqa: F401 (fixtures)
from .world import credit_code

pytestmark = pytest.mark.django_db


def chinese_only(html: str, strict: bool = False) -> bool:
    """No English word but data (usernames, codes: tests.test_chinese_ui.data_words)."""
    from .test_chinese_ui import data_words

    return chinese.english_words(html, strict=strict, data_words=data_words()) == []


# --- error pages --------------------------------------------------------------------------------------

def test_a_missing_page_is_in_chinese_with_a_way_home(client):
    r = client.get("/no-such-page/")
    html = r.content.decode()
    assert r.status_code == 404 and "页面不存在" in html and 'href="/" data-testid="error-home"' in html
    assert '<html lang="zh-hans">' in html and chinese_only(html)


def test_a_forbidden_page_is_in_chinese(client, world):
    client.force_login(world.users[Role.ENTERPRISE])
    r = client.get("/enterprises/new/")
    assert r.status_code == 403 and "无权访问" in r.content.decode() and chinese_only(r.content.decode())


def test_a_bad_request_is_in_chinese(client):
    r = client.get("/", HTTP_HOST="attacker.example")  # a host not allowed: Django answers 400
    assert r.status_code == 400 and "请求有误" in r.content.decode() and chinese_only(r.content.decode())


def test_a_server_error_page_needs_neither_the_database_nor_context_processors(client, rf, world, monkeypatch,
                                                                               django_assert_num_queries):
    from qifu.front import errors, views

    with django_assert_num_queries(0):
        r = errors.server_error(rf.get("/"))
    assert r.status_code == 500 and "系统出错" in r.content.decode() and 'href="/"' in r.content.decode()

    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setitem(views.HOME_DATA, Role.ADMIN, broken)
    client.raise_request_exception = False
    client.force_login(world.users[Role.ADMIN])
    r = client.get("/")
    assert r.status_code == 500 and "系统出错" in r.content.decode() and chinese_only(r.content.decode())


def test_a_failed_csrf_check_is_in_chinese(world):
    client = Client(enforce_csrf_checks=True)
    r = client.post("/login/", {"username": "x", "password": "y"})
    assert r.status_code == 403 and "页面已过期" in r.content.decode() and chinese_only(r.content.decode())


def test_error_pages_follow_the_english_switch(client):
    client.cookies["django_language"] = "en"
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and "Page not found" in r.content.decode() and "Back to the home page" in r.content.decode()


# --- messages of forms and the formula checker --------------------------------------------------------

def test_a_clause_without_code_and_title_is_refused_in_chinese(world):
    policy = Policy.objects.create(region=world.region, code="W-X", title="x", department=world.dept)
    with pytest.raises(RuleError) as error:
        PolicyClause(policy=policy, code="", title="").spec()
    assert str(error.value) == "条款：编号和标题必填"


@pytest.mark.parametrize("formula,message", [
    ("min(rd_expense", "无法读取公式：第 4 个字符附近有错误"),
    ("rd_expense ** 2", "不允许使用运算符 **"),
    ("open('x')", "未知函数"),
    ("min", "min 是函数"),
    ("bracket(revenue, 3)", "分档表"),
])
def test_the_formula_checker_answers_in_chinese(client, world, library, formula, message):
    client.force_login(world.users[Role.HANDLER])
    html = client.post("/policies/builder/check/", {"benefit": formula}).content.decode()
    assert 'data-testid="benefit-error"' in html and message in html
    assert chinese.english_words(html, data_words=chinese.RULE_WORDS) == []  # function names are the language's


def test_the_formula_checker_reads_a_valid_formula_in_words_with_the_labels(client, world, library):
    client.force_login(world.users[Role.HANDLER])
    html = client.post("/policies/builder/check/", {"benefit": "min(rd_expense * 0.1, 1000000)"}).content.decode()
    assert "研发费用 × 10%，最高 1,000,000 元" in html
    assert '研发费用 <code translate="no">rd_expense</code>' in html  # the code next to its label
    assert chinese_only(html)


# --- what enterprises read ------------------------------------------------------------------------------

def test_an_enterprise_reads_formulas_and_values_in_words_never_codes(client, world, library):
    client.force_login(world.users[Role.ENTERPRISE])
    for code in ("W-RD", "W-TAG"):
        html = client.get(f"/policies/{Policy.objects.get(code=code).pk}/").content.decode()
        assert chinese_only(html, strict=True), html
        assert "rd_expense" not in html and "min(" not in html
    rd = client.get(f"/policies/{Policy.objects.get(code='W-RD').pk}/").content.decode()
    assert "研发费用 × 10%，最高 1,000,000 元" in rd
    tag = client.get(f"/policies/{Policy.objects.get(code='W-TAG').pk}/").content.decode()
    assert "企业规模 等于 中型" in tag and "按参保人数分档（达到 0 得 10,000 元；达到 100 得 30,000 元）" in tag
    mine = client.get("/policies/mine/").content.decode()
    assert chinese_only(mine, strict=True), mine


def test_staff_see_the_formula_next_to_its_words(client, world, library):
    client.force_login(world.users[Role.HANDLER])
    html = client.get(f"/policies/{Policy.objects.get(code='W-RD').pk}/").content.decode()
    assert re.search(r'研发费用 × 10%，最高 1,000,000 元</span> <code[^>]*translate="no"[^>]*>min\(rd_expense \* 0.1, 1000000\)',
                     html)
    assert chinese_only(html)


def test_an_ineligible_clause_offers_no_application(client, world, library):
    """W-RD-2 is for industries I and C: a trading company (F) sees why, not 申报, and cannot apply by URL."""
    trader = Enterprise.objects.create(region=world.region, uscc=credit_code(), name="贸易演示有限公司",
                                       jurisdiction=world.east, industry="F5179", size="small")
    user = User.objects.create_user("w-trader", password="pw-12345", region=world.region, enterprise=trader)
    user.grant(Role.ENTERPRISE)
    clause = PolicyClause.objects.get(code="W-RD-2")
    client.force_login(user)
    html = client.get(f"/policies/{clause.policy_id}/").content.decode()
    card = html[html.index('data-code="W-RD-2"'):]
    card = card[:card.index('data-testid="clause" ') if 'data-testid="clause" ' in card else len(card)]
    assert 'data-testid="apply"' not in card and "贵企业不符合本条款的条件" in card
    page = client.get(f"/policies/clauses/{clause.pk}/apply/").content.decode()
    assert "贵企业不符合本条款的条件" in page
    client.post(f"/policies/clauses/{clause.pk}/apply/", {"note": "x"})
    assert not Application.objects.filter(enterprise=trader).exists()
    # The eligible enterprise still may apply.
    client.force_login(world.users[Role.ENTERPRISE])
    html = client.get(f"/policies/{clause.policy_id}/").content.decode()
    assert f'href="/policies/clauses/{clause.pk}/apply/" data-testid="apply"' in html


# --- the API docs ----------------------------------------------------------------------------------------

def test_the_api_docs_use_the_vendored_swagger_ui_and_no_inline_script(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in html and "front/api-docs.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _body in scripts)
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200

"""等保 level 3 expectations: HTTPS settings, the Content-Security-Policy, idle sessions, sign-in lockout,
the sign-in audit, changing one's password and the required change of an initial password."""

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.utils import timezone

from qifu.accounts.middleware import LAST_SEEN
from qifu.accounts.models import ApiToken, Role, User
from qifu.audit.models import AuditEntry
from qifu.lib import csp

from .world import World

QIFU = Path(__file__).resolve().parent.parent / "qifu"
PASSWORD = "pw-12345"

# The production variables documented in README.md ("Configuration") and docs/security.md.
PRODUCTION = {
    "QIFU_SECRET_KEY": "k3Jr-9vQ2_xWm8TzLp4HsY6nB1cVe7uAoRdFgZiKjNqXyPwE5tMb0",
    "QIFU_ALLOWED_HOSTS": "qifu.example.gov.cn",
    "QIFU_HTTPS": "1",
    "QIFU_PROXY_SSL_HEADER": "X-Forwarded-Proto:https",
    "QIFU_SMTP_HOST": "mail.example.gov.cn",
}


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    world = World()
    admin = world.users[Role.ADMIN]
    admin.is_staff = admin.is_superuser = True  # also Django's admin, as the demo's administrator
    admin.save()
    return world


def _env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QIFU_", "DJANGO_"))}  # e.g. the browser
    # tests' DJANGO_ALLOW_ASYNC_UNSAFE, which the deployment check rightly refuses
    env.update({"QIFU_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "qifu.settings"}, **extra)
    return env


def _settings_in(env: dict, *names: str):
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    return done


# ---- HTTPS and the deployment check -------------------------------------------------------------------------


def test_qifu_check_deploy_passes_with_the_documented_production_variables(tmp_path):
    qifu = [sys.executable, "-m", "qifu", "check", "--deploy", "--fail-level", "WARNING"]
    done = subprocess.run(qifu, env=_env(tmp_path, **PRODUCTION), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    # …and fails without HTTPS: the check is not vacuous.
    plain = {k: v for k, v in PRODUCTION.items() if k != "QIFU_HTTPS"}
    done = subprocess.run(qifu, env=_env(tmp_path, **plain), capture_output=True, text=True, timeout=180)
    assert done.returncode != 0
    assert "SECURE_HSTS_SECONDS" in done.stdout + done.stderr


def test_qifu_https_turns_on_secure_cookies_hsts_and_the_redirect(tmp_path):
    names = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
             "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER")
    done = _settings_in(_env(tmp_path, **PRODUCTION), *names)
    assert done.returncode == 0, done.stderr
    on = json.loads(done.stdout)
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"] and on["SECURE_SSL_REDIRECT"]
    assert on["SECURE_HSTS_SECONDS"] >= 180 * 24 * 3600 and on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    off = json.loads(_settings_in(_env(tmp_path), *names).stdout)
    assert not (off["SESSION_COOKIE_SECURE"] or off["CSRF_COOKIE_SECURE"] or off["SECURE_SSL_REDIRECT"])
    assert off["SECURE_HSTS_SECONDS"] == 0 and off["SECURE_PROXY_SSL_HEADER"] is None
    custom = json.loads(_settings_in(_env(tmp_path, QIFU_HTTPS="1", QIFU_HSTS_SECONDS="600",
                                          QIFU_HSTS_INCLUDE_SUBDOMAINS="0"), *names).stdout)
    assert custom["SECURE_HSTS_SECONDS"] == 600 and custom["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False


def test_a_malformed_proxy_ssl_header_is_refused_with_a_clear_message(tmp_path):
    done = _settings_in(_env(tmp_path, QIFU_PROXY_SSL_HEADER="X-Forwarded-Proto"), "SECURE_PROXY_SSL_HEADER")
    assert done.returncode != 0
    assert "QIFU_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto:https'" in done.stderr


def test_behind_a_tls_proxy_plain_http_is_redirected_and_https_gets_hsts_and_secure_cookies(client, world, settings):
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = 31536000, True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/"
    response = client.post("/login/", {"username": world.users[Role.ADMIN].username, "password": PASSWORD},
                           HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 302
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.cookies["sessionid"]["secure"] is True


# ---- Content-Security-Policy --------------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _inline_code(html: str) -> list[str]:
    return [m.group(0) for rx in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL) for m in rx.finditer(html)]


def test_no_template_has_inline_script_event_handlers_or_javascript_urls():
    found = {}
    for template in QIFU.rglob("templates/**/*.html"):
        hits = _inline_code(template.read_text())
        if hits:
            found[str(template.relative_to(QIFU))] = hits
    assert found == {}


def test_the_inline_code_detector_finds_what_it_must():
    assert _inline_code('<script>alert(1)</script>') and _inline_code('<select onchange="x()">')
    assert _inline_code('<a href="javascript:void(0)">') and _inline_code('<div hx-on:click="x()">')
    assert not _inline_code('<script src="/static/a.js"></script><script type="application/json" id="d">{}</script>')


def _policy(response) -> dict:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _check_policy(response, where):
    policy = _policy(response)
    assert policy, f"no Content-Security-Policy on {where}"
    for directive in ("script-src", "style-src", "default-src"):
        assert "'self'" in policy[directive], where
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive], where
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], where
    assert not any("http" in value for values in policy.values() for value in values), where  # nothing off-site


def test_every_kind_of_page_carries_the_policy_and_renders_no_inline_script(client, world):
    anonymous = ["/login/", "/no-such-page/", "/api/v1/openapi.json"]
    for url in anonymous:
        _check_policy(client.get(url), url)
    client.force_login(world.users[Role.ADMIN])
    for url in ["/", "/enterprises/", f"/enterprises/{world.ent_east.pk}/", "/appeals/", "/appeals/new/", "/policies/",
                "/password/", "/admin/", "/admin/audit/auditentry/", "/admin/accounts/user/add/",
                "/admin/axes/accessattempt/", "/api/v1/docs", "/api/v1/me"]:
        response = client.get(url)
        assert response.status_code == 200, url
        _check_policy(response, url)
        if "text/html" in response["Content-Type"] and url != "/api/v1/docs":  # the docs: next test
            assert _inline_code(response.content.decode()) == [], url
    client.force_login(world.users[Role.LEADER])
    response = client.get("/")
    _check_policy(response, "leader home")
    assert 'data-chart="industry-pie"' in response.content.decode() and not _inline_code(response.content.decode())


def test_the_self_hosted_api_docs_need_no_inline_script(client, world):
    # /api/v1/docs serves the vendored Swagger UI from this site's static files (its settings travel in a
    # JSON data block, which the policy does not treat as script).
    client.force_login(world.users[Role.ADMIN])
    response = client.get("/api/v1/docs")
    html = response.content.decode()
    _check_policy(response, "/api/v1/docs")
    assert _inline_code(html) == [] and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_a_nonce_appears_only_when_a_template_uses_one_on_either_implementation(rf, settings):
    from django.http import HttpResponse

    settings.SECURE_CSP = {"script-src": [csp.SELF, csp.NONCE], "object-src": [csp.NONE]}
    implementations = [csp.FallbackMiddleware, csp.ContentSecurityPolicyMiddleware]
    for middleware in implementations:
        request = rf.get("/")
        plain = middleware(lambda r: HttpResponse("ok"))(request)
        assert plain["Content-Security-Policy"] == "script-src 'self'; object-src 'none'"
        request = rf.get("/")
        used = middleware(lambda r: HttpResponse(f'<script nonce="{csp.get_nonce(r)}">'))(request)
        nonce = re.search(r'nonce="([^"]+)"', used.content.decode()).group(1)
        assert used["Content-Security-Policy"] == f"script-src 'self' 'nonce-{nonce}'; object-src 'none'"

        def own(r):
            response = HttpResponse("ok")
            response._csp_config = {"default-src": [csp.NONE]}
            return response
        assert middleware(own)(rf.get("/"))["Content-Security-Policy"] == "default-src 'none'"


# ---- Idle sessions ------------------------------------------------------------------------------------------


def _sign_in(client, user, password=PASSWORD, path="/login/", **extra):
    return client.post(path, {"username": user.username, "password": password}, **extra)


def _idle(client, minutes):
    session = client.session
    session[LAST_SEEN] = int(timezone.now().timestamp()) - minutes * 60
    session.save()


def test_a_staff_session_idle_30_minutes_is_signed_out_with_a_chinese_message(client, world):
    user = world.users[Role.DISPATCHER]
    assert _sign_in(client, user).status_code == 302
    assert client.get("/appeals/").status_code == 200
    _idle(client, 29)
    assert client.get("/appeals/").status_code == 200  # 29 minutes: still signed in
    _idle(client, 31)
    response = client.get("/appeals/?status=open")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/appeals/%3Fstatus%3Dopen"
    page = client.get(response["Location"]).content.decode()
    assert "30 分钟未操作" in page and "请重新登录" in page
    assert client.get("/appeals/").status_code == 302  # signed out for good
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, object_id=str(user.pk)).get()
    assert "30" in entry.note


def test_the_idle_time_is_a_region_rule_with_its_own_value_for_enterprise_users(client, world):
    world.region.config = {"session_idle_minutes": {"staff": 60, "enterprise": 10}}
    world.region.save()
    staff, enterprise = world.users[Role.FRONT_DESK], world.users[Role.ENTERPRISE]
    _sign_in(client, staff)
    _idle(client, 45)
    assert client.get("/").status_code == 200
    client.logout()
    _sign_in(client, enterprise)
    _idle(client, 11)
    response = client.get("/", HTTP_HX_REQUEST="true")  # an htmx request is sent to the sign-in page whole
    assert response["HX-Redirect"].startswith("/login/")
    assert client.get("/").status_code == 302


def test_an_idle_api_session_just_answers_as_to_anyone_signed_out(client, world):
    _sign_in(client, world.users[Role.ADMIN])
    assert client.get("/api/v1/me").status_code == 200
    _idle(client, 31)
    assert client.get("/api/v1/me").status_code == 401


# ---- Sign-in lockout and audit ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_25_wrong_passwords_then_the_right_one_does_not_sign_in(client, world, path):
    admin = world.users[Role.ADMIN]
    statuses = [_sign_in(client, admin, "wrong", path).status_code for _ in range(25)]
    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}  # the 5th failure locks
    response = _sign_in(client, admin, PASSWORD, path)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "登录失败次数过多" in page and "请于" in page and "后再试" in page
    until = timezone.localtime(timezone.now() + datetime.timedelta(minutes=30)).strftime("%H:%M")
    before = timezone.localtime(timezone.now() + datetime.timedelta(minutes=29)).strftime("%H:%M")
    assert until in page or before in page
    assert int(response["Retry-After"]) in range(29 * 60, 30 * 60 + 1)
    # Audited: five failures, the lockout, then each refused try while locked.
    actions = list(AuditEntry.objects.filter(object_id=str(admin.pk), content_type__model="user")
                   .exclude(action__in=["create", "update"]).order_by("id").values_list("action", flat=True))
    assert actions[:6] == ["login_failed"] * 5 + ["lockout"]
    assert actions[6:] == ["login_failed"] * 21
    # After the lockout time the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))
    assert _sign_in(client, admin, PASSWORD, path).status_code == 302
    assert client.session["_auth_user_id"] == str(admin.pk)


def test_an_account_locks_whatever_the_address_and_an_address_locks_whatever_the_account(client, world, settings):
    settings.QIFU_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    victim = world.users[Role.LEADER]
    for n in range(5):
        _sign_in(client, victim, "wrong", REMOTE_ADDR=f"10.0.0.{n + 1}")
    assert _sign_in(client, victim, PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 429
    others = [world.users[r] for r in (Role.FRONT_DESK, Role.HANDLER, Role.SPECIALIST, Role.LIAISON)]
    for user in others:  # 2 failures each: no account reaches 5, the address reaches 8
        _sign_in(client, user, "wrong", REMOTE_ADDR="10.1.1.1")
        _sign_in(client, user, "wrong", REMOTE_ADDR="10.1.1.1")
    response = _sign_in(client, world.users[Role.SUPERVISOR], PASSWORD, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429 and "网络地址" in response.content.decode()
    assert _sign_in(client, world.users[Role.SUPERVISOR], PASSWORD, REMOTE_ADDR="10.2.2.2").status_code == 302


def test_a_successful_sign_in_clears_the_account_failures_but_not_the_address(client, world):
    user = world.users[Role.HANDLER]
    for _ in range(4):
        _sign_in(client, user, "wrong")
    assert _sign_in(client, user).status_code == 302
    client.logout()
    for _ in range(4):
        _sign_in(client, user, "wrong")
    assert _sign_in(client, user).status_code == 302  # 4 + 4 failures, but not 5 in a row
    assert AccessAttempt.objects.filter(username=user.username).count() == 0


def test_behind_proxies_the_address_is_taken_from_x_forwarded_for(client, world, settings):
    settings.QIFU_PROXY_COUNT = 1
    user = world.users[Role.HANDLER]
    _sign_in(client, user, "wrong", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.20.30.40")
    assert AccessAttempt.objects.get().ip_address == "10.20.30.40"  # the proxy's entry, not the client's claim


def test_api_bearer_tokens_keep_working_while_sign_in_is_locked(client, world):
    admin = world.users[Role.ADMIN]
    token = ApiToken.objects.issue(admin)[1]
    for _ in range(6):
        _sign_in(client, admin, "wrong")
    assert _sign_in(client, admin).status_code == 429
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["username"] == admin.username


def test_sign_in_failure_for_an_unknown_account_and_sign_in_and_out_are_audited(client, world):
    _sign_in(client, User(username="nobody-here"), "guess", REMOTE_ADDR="10.3.3.3")
    failed = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN_FAILED)
    assert failed.object_repr == "nobody-here" and failed.actor is None
    assert failed.after == {"ip_address": "10.3.3.3", "path": "/login/"} and failed.note == "无此账号"
    user = world.users[Role.SPECIALIST]
    _sign_in(client, user, REMOTE_ADDR="10.4.4.4")
    login = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN)
    assert (login.actor, login.object_id, login.after["ip_address"]) == (user, str(user.pk), "10.4.4.4")
    client.post("/logout/")
    logout = AuditEntry.objects.get(action=AuditEntry.Action.LOGOUT)
    assert (logout.actor, logout.object_id) == (user, str(user.pk))


# ---- Passwords ----------------------------------------------------------------------------------------------


def _change(client, old, new, again=None):
    return client.post("/password/", {"old_password": old, "new_password1": new, "new_password2": again or new})


def test_users_change_their_own_password_with_the_validators(client, world):
    user = world.users[Role.ENTERPRISE]
    _sign_in(client, user)
    assert "修改密码" in client.get("/").content.decode()  # linked from the user menu
    page = _change(client, "wrong-old", "Xq7!long-enough-pass").content.decode()
    assert "旧密码不正确" in page
    page = _change(client, PASSWORD, "123").content.decode()
    assert "此密码太短" in page and "这个密码太常见了" in page
    page = _change(client, PASSWORD, PASSWORD).content.decode()
    assert "新密码不能与当前密码相同" in page
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    response = _change(client, PASSWORD, "Xq7!long-enough-pass")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "密码已修改" in client.get("/").content.decode()  # and still signed in
    user.refresh_from_db()
    assert user.check_password("Xq7!long-enough-pass")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PASSWORD, object_id=str(user.pk))
    assert entry.actor == user


def test_a_user_an_administrator_created_must_change_the_initial_password_before_any_page(client, world):
    client.force_login(world.users[Role.ADMIN])
    response = client.post("/admin/accounts/user/add/", {
        "username": "newclerk", "password1": "Initial-Pass-2026", "password2": "Initial-Pass-2026",
        "usable_password": "true", "role_grants-TOTAL_FORMS": "0", "role_grants-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk = User.objects.get(username="newclerk")
    assert clerk.must_change_password
    clerk.grant(Role.FRONT_DESK)
    client.logout()
    token = ApiToken.objects.issue(clerk)[1]
    assert _sign_in(client, clerk, "Initial-Pass-2026").status_code == 302
    for url in ["/", "/enterprises/", "/appeals/", "/admin/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/password/", url
    assert client.get("/", HTTP_HX_REQUEST="true")["HX-Redirect"] == "/password/"
    assert client.get("/api/v1/me").status_code == 403  # by session
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401  # no session fallback
    page = client.get("/password/").content.decode()
    assert 'data-testid="password-change-required"' in page
    assert _change(client, "Initial-Pass-2026", "Initial-Pass-2026").status_code == 200  # the same is refused
    assert _change(client, "Initial-Pass-2026", "Chosen-By-Me-2026").status_code == 302
    clerk.refresh_from_db()
    assert not clerk.must_change_password
    assert client.get("/").status_code == 200


def test_a_password_an_administrator_sets_in_the_admin_is_an_initial_password(client, world):
    target = world.users[Role.HANDLER]
    client.force_login(world.users[Role.ADMIN])
    response = client.post(f"/admin/accounts/user/{target.pk}/password/", {
        "password1": "Reset-By-Admin-77", "password2": "Reset-By-Admin-77", "usable_password": "true",
        "set-password": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.must_change_password and target.check_password("Reset-By-Admin-77")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PASSWORD, object_id=str(target.pk))
    assert entry.actor == world.users[Role.ADMIN]

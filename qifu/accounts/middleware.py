"""Session rules every request passes: the idle timeout and a required password change."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from qifu.org import config as region_config

LAST_SEEN = "qifu_last_seen"  # session key: when this session last made a request (epoch seconds)
STAMP_EVERY = 60  # write the session at most once a minute


def _is_api(request) -> bool:
    return request.path_info.startswith(("/api/", "/open311/"))


def idle_minutes(user) -> int:
    """The region's `session_idle_minutes` for this user's kind (staff or enterprise); cached a minute."""
    key = f"qifu:idle-minutes:{user.pk}"
    minutes = cache.get(key)
    if minutes is None:
        rule = user.region.rule("session_idle_minutes") if user.region_id else \
            region_config.DEFAULTS["session_idle_minutes"]
        if isinstance(rule, dict):
            kind = "enterprise" if user.is_enterprise_user else "staff"
            rule = rule.get(kind, rule.get("staff"))
        minutes = max(1, int(rule or region_config.DEFAULTS["session_idle_minutes"]["staff"]))
        cache.set(key, minutes, 60)
    return minutes


class IdleTimeoutMiddleware:
    """Sign out a session idle longer than its region allows; the next page is the sign-in page, saying why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN)
            minutes = idle_minutes(user)
            if last is not None and now - last > minutes * 60:
                request.qifu_logout_reason = _("idle for more than %(minutes)d minutes") % {"minutes": minutes}
                logout(request)
                if not _is_api(request):  # the API answers as to anyone not signed in
                    messages.warning(request, _("You were signed out after %(minutes)d minutes without activity. "
                                                "Please sign in again.") % {"minutes": minutes})
                    login_url = redirect_to_login(request.get_full_path())["Location"]
                    if request.headers.get("HX-Request"):
                        response = HttpResponse(status=200)
                        response["HX-Redirect"] = login_url
                        return response
                    return redirect(login_url)
            elif last is None or now - last >= STAMP_EVERY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A user whose password someone else chose changes it before using any page (or the API by session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse("password_change"), reverse("logout"), reverse("admin:logout"), reverse("set_language")}
            path = request.path_info
            if path not in allowed and not path.startswith(("/" + settings.STATIC_URL.lstrip("/"),)):
                if _is_api(request):
                    if request.headers.get("Authorization") or "api_key" in request.GET or "api_key" in request.POST:
                        request.user = AnonymousUser()  # only the token may say who is calling, not this session
                        return self.get_response(request)
                    return JsonResponse({"detail": _("Your password was set by someone else. Choose a new password "
                                                     "before you continue.")}, status=403)
                url = reverse("password_change")
                if request.headers.get("HX-Request"):
                    response = HttpResponse(status=200)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        return self.get_response(request)

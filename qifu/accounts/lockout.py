"""Sign-in lockout and the sign-in audit (django-axes underneath; settings in settings.py, docs/security.md).

Every `authenticate()` — the sign-in page and the admin's — passes django-axes' backend first. After
QIFU_LOGIN_FAILURE_LIMIT failures for one account, or QIFU_LOGIN_ADDRESS_FAILURE_LIMIT failures from one
address (an office behind one NAT may fail more often than one person), sign-in is refused for
QIFU_LOGIN_LOCKOUT_MINUTES, even with the right password. API bearer tokens never call `authenticate()`
and are unaffected. This handler also writes every sign-in, failure, lockout and sign-out to the audit trail.
"""

import datetime
import ipaddress
import math
import time

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Sum
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.audit import trail
from qifu.audit.models import AuditEntry

from .middleware import LAST_SEEN


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind QIFU_PROXY_COUNT proxies the address the outermost
    trusted proxy saw (counted from the right of X-Forwarded-For, which clients can prepend to)."""
    address = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "QIFU_PROXY_COUNT", 0)
    if count > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            address = forwarded[-count]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check in front of the password check. Sign-ins through a page always have a request;
    `authenticate()` without one (a script, the test client's login()) has no address and is not counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _attempts(request, credentials) -> tuple:
    """This account's and this address's failures still counting (axes' lockout parameters, in order)."""
    return tuple(LockoutHandler().get_user_attempts(request, credentials))


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """axes compares one number with its limit; scale the address's failures to its own, higher limit."""
        by_account, by_address = (
            qs.aggregate(n=Sum("failures_since_start"))["n"] or 0 for qs in self.get_user_attempts(request, credentials)
        )
        limit = settings.AXES_FAILURE_LIMIT
        return max(by_account, by_address * limit // max(settings.QIFU_LOGIN_ADDRESS_FAILURE_LIMIT, 1))

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        refused_while_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        username = (get_client_username(request, credentials) if request is not None else
                    (credentials or {}).get("username")) or ""
        user = get_user_model().objects.filter(username=username).first()
        where = _where(request)
        note = _("refused: sign-in is locked") if refused_while_locked else (
            "" if user else _("no such account"))
        # The actor is whoever typed: unknown. The object is the account tried (unsaved when there is none).
        trail.record(AuditEntry.Action.LOGIN_FAILED, user or get_user_model()(username=username[:150]),
                     after=where, note=note)
        if request is not None and request.axes_locked_out and not refused_while_locked:
            trail.record(AuditEntry.Action.LOCKOUT, user or get_user_model()(username=username[:150]), after=where,
                         note=_lock_reason(request, credentials))

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # A successful sign-in clears this account's failures (never the address's: an attacker with an
        # account of their own must not reset the count of guesses made at others from the same place).
        AccessAttempt.objects.filter(username=user.get_username()).delete()
        if request is not None and hasattr(request, "session"):
            request.session[LAST_SEEN] = int(time.time())  # the idle clock starts now
        trail.record(AuditEntry.Action.LOGIN, user, after=_where(request), actor=user)

    def user_logged_out(self, sender, request, user, **kwargs):
        super().user_logged_out(sender, request, user, **kwargs)
        if user is not None:
            trail.record(AuditEntry.Action.LOGOUT, user, after=_where(request),
                         note=getattr(request, "qifu_logout_reason", ""), actor=user)


def _where(request) -> dict:
    if request is None:
        return {}
    return {"ip_address": getattr(request, "axes_ip_address", None) or client_address(request),
            "path": request.path[:200]}


def _lock_reason(request, credentials) -> str:
    by_account, _by_address = (qs.aggregate(n=Sum("failures_since_start"))["n"] or 0
                               for qs in _attempts(request, credentials))
    if by_account >= settings.AXES_FAILURE_LIMIT:
        return _("%(n)d failed sign-ins for this account") % {"n": by_account}
    return _("too many failed sign-ins from this address")


def locked_until(request, credentials) -> tuple[datetime.datetime, bool]:
    """When sign-in opens again (at the latest), and whether it is the account (not the address) that is locked."""
    by_account, by_address = _attempts(request, credentials)
    account_failures = by_account.aggregate(n=Sum("failures_since_start"))["n"] or 0
    account = account_failures >= settings.AXES_FAILURE_LIMIT
    last = (by_account if account else by_address).aggregate(at=Max("attempt_time"))["at"] or timezone.now()
    return last + settings.AXES_COOLOFF_TIME, account


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of signing in while locked (429, with when to try again)."""
    until, account = locked_until(request, credentials)
    local = timezone.localtime(until)
    at = local.strftime("%H:%M") if local.date() == timezone.localdate() else local.strftime("%Y-%m-%d %H:%M")
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    if account:
        message = _("Too many failed sign-ins: this account is locked. Try again after %(time)s "
                    "(in about %(minutes)d minutes), or ask an administrator to unlock it.")
    else:
        message = _("Too many failed sign-ins from your network address: sign-in from it is locked. "
                    "Try again after %(time)s (in about %(minutes)d minutes).")
    response = render(request, "registration/locked_out.html",
                      {"message": message % {"time": at, "minutes": minutes},
                       "login_url": reverse("admin:login") if request.path.startswith("/admin/") else reverse("login")},
                      status=429)
    response["Retry-After"] = str(minutes * 60)
    return response

"""Content-Security-Policy on every response — the one place (docs/decisions.md, docs/security.md).

Django 6.0 brought a CSP middleware (`django.middleware.csp`, configured by `SECURE_CSP`); Django 5.2
LTS, which a Python 3.11 machine runs, has none. `ContentSecurityPolicyMiddleware` here is Django's own
on 6.x and, on 5.2, `FallbackMiddleware`: it reads the same `SECURE_CSP` / `SECURE_CSP_REPORT_ONLY`
settings, honours the same per-response override (`response._csp_config`) and replaces the same nonce
placeholder, so settings.py and the templates are identical on both.
"""

import secrets

from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject, empty

SELF, NONE = "'self'", "'none'"
NONCE = "<CSP_NONCE_SENTINEL>"  # the same placeholder as django.utils.csp.CSP.NONCE
HEADER, HEADER_REPORT_ONLY = "Content-Security-Policy", "Content-Security-Policy-Report-Only"


class LazyNonce(SimpleLazyObject):
    """A nonce made only when a template asks for it; true once made."""

    def __init__(self):
        super().__init__(lambda: secrets.token_urlsafe(16))

    def __bool__(self):
        return self._wrapped is not empty


def build_policy(config: dict, nonce=None) -> str:
    """`{"script-src": ["'self'", NONCE]}` → `script-src 'self' 'nonce-…'` (the nonce only once made)."""
    policy = []
    for directive, values in config.items():
        if values in (None, False):
            continue
        if values is True:
            policy.append(directive)
            continue
        if isinstance(values, set):
            values = sorted(values)
        elif not isinstance(values, (list, tuple)):
            values = [values]
        if NONCE in values:
            values = [f"'nonce-{nonce}'" if v == NONCE else v for v in values] if nonce else \
                [v for v in values if v != NONCE]
        if values:
            policy.append(f"{directive} {' '.join(values)}")
    return "; ".join(policy)


def get_nonce(request):
    return getattr(request, "_csp_nonce", None)


class FallbackMiddleware(MiddlewareMixin):
    """Django 6's ContentSecurityPolicyMiddleware, for Django 5.2."""

    def process_request(self, request):
        request._csp_nonce = LazyNonce()

    def process_response(self, request, response):
        nonce = get_nonce(request)
        unset = object()
        enforce = getattr(response, "_csp_config", unset)
        report_only = getattr(response, "_csp_ro_config", unset)
        for header, config in [
            (HEADER, getattr(settings, "SECURE_CSP", {}) if enforce is unset else enforce),
            (HEADER_REPORT_ONLY, getattr(settings, "SECURE_CSP_REPORT_ONLY", {}) if report_only is unset else report_only),
        ]:
            if config and header not in response:
                response.headers[header] = build_policy(config, nonce)
        return response


try:  # Django >= 6.0
    from django.middleware.csp import ContentSecurityPolicyMiddleware
    from django.middleware.csp import get_nonce  # noqa: F811 — the same attribute, Django's spelling

    BUILTIN = True
except ImportError:  # Django 5.2
    ContentSecurityPolicyMiddleware = FallbackMiddleware
    BUILTIN = False


def context_processor(request) -> dict:
    """`csp_nonce` for templates (Django 6's admin renders it with `{% csp_nonce_attr %}`)."""
    return {"csp_nonce": get_nonce(request)}

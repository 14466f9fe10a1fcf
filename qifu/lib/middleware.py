"""A NUL character (\\0, `%00`) in a URL, a query parameter or a form field is refused with a 400 before
any view runs — PostgreSQL cannot store or compare it, so it would otherwise surface as a 500 wherever
the value reaches a query. JSON bodies are checked by the API's schemas (`qifu.api.schemas.Input`)."""

import json

from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .inputs import NUL


def _in_querydict(data) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in data.lists())


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if NUL in request.path or NUL in request.path_info or _in_querydict(request.GET):
            return True
        content_type = request.content_type or ""
        if request.method == "POST" and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return _in_querydict(request.POST) or any(NUL in (f.name or "") for f in request.FILES.values())
        return False

    @staticmethod
    def _refuse(request):
        message = _("NUL characters (\\0) are not allowed.")
        if request.path.startswith("/api/"):
            body = json.dumps({"detail": message, "errors": []}, ensure_ascii=False)
            return HttpResponse(body, status=400, content_type="application/json; charset=utf-8")
        if request.path.startswith("/open311/"):
            if request.path.endswith(".xml"):
                body = ('<?xml version="1.0" encoding="UTF-8"?>\n<errors><error><code>400</code>'
                        f"<description>{message}</description></error></errors>")
                return HttpResponse(body.encode("utf-8"), status=400, content_type="text/xml; charset=utf-8")
            body = json.dumps([{"code": 400, "description": message}], ensure_ascii=False)
            return HttpResponse(body, status=400, content_type="application/json; charset=utf-8")
        raise BadRequest(message)

"""The JSON API, /api/v1/ — OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Errors: see `qifu.api.errors` — every one is `{"detail": …, "errors": […]}` and declared in the OpenAPI."""

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError

from qifu.appeals.workflow import WorkflowError
from qifu.front.apidocs import ApiDocs
from qifu.lib.inputs import InputError

from . import errors
from .auth import AUTH


class QifuAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Every operation that needs a token also declares its 401."""
        schema = super().get_openapi_schema(*args, **kwargs)
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                if isinstance(operation, dict) and operation.get("security"):
                    operation.setdefault("responses", {}).setdefault(
                        "401", {"description": "Unauthorized", **ref})
        return schema


api = QifuAPI(
    title="qifu API",
    version="1",
    description="企服 — enterprise comprehensive service center. Token auth: `Authorization: Bearer <token>`. "
                "Errors: `{\"detail\": \"…\", \"errors\": [{\"field\", \"message\", \"index\"}]}` — 400 bad input, "
                "401 no or bad token, 403 not allowed, 404 not found (or outside what you may see), 409 stale "
                "`version`, 422 an Idempotency-Key reused with another body. Lists: `limit` 1–200 (default 50), "
                "`offset`.",
    auth=AUTH,
    urls_namespace="api-v1",
    docs=ApiDocs(),  # vendored Swagger UI, no CDN
)


def _error(request, status: int, detail: str, items: list | None = None):
    return api.create_response(request, {"detail": detail, "errors": items or []}, status=status)


@api.exception_handler(SchemaError)
def _schema_error(request, exc: SchemaError):
    items = errors.items(exc.errors)
    return _error(request, 400, errors.detail(items), items)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    found = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    items = [{"field": field, "message": text, "index": None} for field, texts in found.items() for text in texts]
    return _error(request, 400, errors.detail(items), items)


@api.exception_handler(InputError)
def _input_error(request, exc: InputError):
    return _error(request, 400, str(exc))


@api.exception_handler(WorkflowError)
def _workflow_error(request, exc: WorkflowError):
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    return _error(request, 401, _("Send a valid token: Authorization: Bearer <token>."))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, exc.message if isinstance(exc.message, str) else str(exc))


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or _("You may not do this."))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, _("Not found."))


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    return _error(request, 400, _("The request is not valid."))


@api.exception_handler(BadRequest)
def _bad_request(request, exc):
    return _error(request, 400, str(exc) or _("The request is not valid."))


@csrf_exempt  # answers 404 whatever the method; nothing to protect
def not_found(request, rest=""):
    """Any other URL under /api/v1/ (e.g. /api/v1/appeals/abc): a JSON 404 like the API's own."""
    from django.http import JsonResponse

    return JsonResponse({"detail": _("Not found."), "errors": []}, status=404, json_dumps_params={"ensure_ascii": False})


def _routers():
    from qifu.accounts.api import router as accounts
    from qifu.appeals.api import router as appeals
    from qifu.appeals.ratings_api import router as appeal_ratings
    from qifu.appeals.revisits_api import router as revisits
    from qifu.appeals.stats_api import router as appeal_stats
    from qifu.assessments.api import router as ranking
    from qifu.bookings.api import router as bookings
    from qifu.catalog.api import router as catalog
    from qifu.scenarios.api import router as scenarios
    from qifu.enterprises.api import router as enterprises
    from qifu.frontdesk.api import router as frontdesk
    from qifu.knowledge.api import router as knowledge
    from qifu.org.api import router as org
    from qifu.policies.api import router as policies
    from qifu.profiles.api import router as profiles
    from qifu.search.api import router as search
    from qifu.supervision.api import router as supervision

    api.add_router("", accounts)
    api.add_router("", org)
    api.add_router("/enterprises", enterprises)
    api.add_router("", profiles)
    api.add_router("/notifications", "qifu.notify.api.router")
    api.add_router("/appeals", appeals)
    api.add_router("", appeal_stats)
    api.add_router("", ranking)
    api.add_router("", revisits)
    api.add_router("", appeal_ratings)
    api.add_router("", supervision)
    api.add_router("", policies)
    api.add_router("", knowledge)
    api.add_router("", bookings)
    api.add_router("", catalog)
    api.add_router("", search)
    api.add_router("", scenarios)
    api.add_router("", frontdesk)


_routers()

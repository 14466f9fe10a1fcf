"""The JSON API, /api/v1/ — OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI

from qifu.appeals.workflow import WorkflowError
from qifu.front.apidocs import ApiDocs

from .auth import AUTH

api = NinjaAPI(
    title="qifu API",
    version="1",
    description="企服 — enterprise comprehensive service center. Token auth: `Authorization: Bearer <token>`.",
    auth=AUTH,
    urls_namespace="api-v1",
    docs=ApiDocs(),  # vendored Swagger UI, no CDN
)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    detail = "; ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in errors.items())
    return api.create_response(request, {"detail": detail, "errors": errors}, status=400)


@api.exception_handler(WorkflowError)
def _workflow_error(request, exc: WorkflowError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": "not found"}, status=404)


def _routers():
    from qifu.accounts.api import router as accounts
    from qifu.appeals.api import router as appeals
    from qifu.enterprises.api import router as enterprises
    from qifu.org.api import router as org
    from qifu.policies.api import router as policies
    from qifu.profiles.api import router as profiles

    api.add_router("", accounts)
    api.add_router("", org)
    api.add_router("/enterprises", enterprises)
    api.add_router("", profiles)
    api.add_router("/notifications", "qifu.notify.api.router")
    api.add_router("/appeals", appeals)
    api.add_router("", policies)


_routers()

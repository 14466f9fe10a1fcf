"""/open311/v2/ — GeoReport v2 resources; the extension (.json, .xml) picks the format, none means JSON."""

from django.urls import re_path

from . import open311

FMT = r"(?:\.(?P<fmt>json|xml))?$"

urlpatterns = [
    re_path(r"^services" + FMT, open311.services, name="open311-services"),
    re_path(r"^services/(?P<code>[-\w]+)" + FMT, open311.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, open311.requests, name="open311-requests"),
    re_path(r"^requests/(?P<number>[-\w]+)" + FMT, open311.request_detail, name="open311-request"),
]

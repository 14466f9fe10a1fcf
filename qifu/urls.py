from django.contrib import admin
from django.urls import include, path, re_path

from qifu.api.v1 import api, not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/", not_found),  # JSON, not the pages' 404 (any rest of the path, a newline too)
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("qifu.accounts.urls")),
    path("", include("qifu.notify.urls")),
    path("", include("qifu.appeals.urls")),
    path("", include("qifu.supervision.urls")),
    path("", include("qifu.assessments.urls")),
    path("", include("qifu.profiles.urls")),
    path("", include("qifu.policies.urls")),
    path("", include("qifu.bookings.urls")),
    path("", include("qifu.knowledge.urls")),
    path("", include("qifu.catalog.urls")),
    path("", include("qifu.frontdesk.urls")),
    path("", include("qifu.search.urls")),
    path("", include("qifu.scenarios.urls")),
    path("", include("qifu.front.urls")),
]

handler400 = "qifu.front.errors.bad_request"
handler403 = "qifu.front.errors.permission_denied"
handler404 = "qifu.front.errors.page_not_found"
handler500 = "qifu.front.errors.server_error"

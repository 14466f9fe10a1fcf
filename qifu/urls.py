from django.contrib import admin
from django.urls import include, path

from qifu.api.v1 import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("qifu.accounts.urls")),
    path("", include("qifu.notify.urls")),
    path("open311/v2/", include("qifu.appeals.open311_urls")),
    path("", include("qifu.appeals.docx_urls")),
    path("", include("qifu.appeals.urls")),
    path("", include("qifu.profiles.urls")),
    path("", include("qifu.policies.urls")),
    path("", include("qifu.front.urls")),
]

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("home/cockpit/", views.home_cockpit, name="home_cockpit"),
    path("home/ranking/", views.home_ranking, name="home_ranking"),
    path("me/enterprise/", views.my_enterprise, name="my_enterprise"),
    path("enterprises/", views.enterprise_list, name="enterprise_list"),
    path("enterprises/new/", views.enterprise_new, name="enterprise_new"),
    path("enterprises/import/", views.enterprise_import, name="enterprise_import"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<int:pk>/edit/", views.enterprise_edit, name="enterprise_edit"),
    path("org/", views.org_directory, name="org_directory"),
]

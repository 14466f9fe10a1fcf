from django.urls import path

from . import views

urlpatterns = [
    path("tags/", views.tag_list, name="tag_list"),
    path("tags/<int:pk>/", views.tag_detail, name="tag_detail"),
    path("tags/rules/new/", views.tag_rule_edit, name="tag_rule_new"),
    path("tags/rules/<int:pk>/edit/", views.tag_rule_edit, name="tag_rule_edit"),
    path("enterprises/<int:pk>/manual-tags/", views.enterprise_manual_tag, name="enterprise_manual_tag"),
    path("profiles/import/", views.value_import, name="profile_import"),
]

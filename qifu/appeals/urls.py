from django.urls import path

from . import views

urlpatterns = [
    path("appeals/", views.appeal_list, name="appeal_list"),
    path("appeals/new/", views.appeal_new, name="appeal_new"),
    path("appeals/new/enterprises/", views.enterprise_matches, name="appeal_enterprise_matches"),
    path("appeals/submit/", views.appeal_submit, name="appeal_submit"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal_detail"),
    path("appeals/<int:pk>/actions/<slug:action>/", views.appeal_act, name="appeal_act"),
    path("appeals/<int:pk>/attachments/", views.appeal_attach, name="appeal_attach"),
    path("appeals/<int:pk>/attachments/<int:attachment_id>/", views.appeal_attachment, name="appeal_attachment"),
]

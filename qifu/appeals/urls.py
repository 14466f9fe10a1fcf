from django.urls import include, path, re_path

from . import ladder_views, open311, rating_views, revisit_views, stats_views, views

# /open311/v2/ — GeoReport v2 resources; the extension (.json, .xml) picks the format, none means JSON.
FMT = r"(?:\.(?P<fmt>json|xml))?$"

open311_urlpatterns = [
    re_path(r"^services" + FMT, open311.services, name="open311-services"),
    re_path(r"^services/(?P<code>[-\w]+)" + FMT, open311.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, open311.requests, name="open311-requests"),
    re_path(r"^requests/(?P<number>[-\w]+)" + FMT, open311.request_detail, name="open311-request"),
]

urlpatterns = [
    path("open311/v2/", include(open311_urlpatterns)),
    path("appeals/<int:pk>/assignment-slip.docx", views.assignment_slip_view, name="appeal_assignment_slip"),
    path("appeals/", views.appeal_list, name="appeal_list"),
    path("stats/appeals/", stats_views.appeal_stats_page, name="appeal_stats_page"),
    path("stats/appeals/trend/", stats_views.appeal_stats_trend, name="appeal_stats_trend"),
    path("appeals/new/", views.appeal_new, name="appeal_new"),
    path("appeals/new/enterprises/", views.enterprise_matches, name="appeal_enterprise_matches"),
    path("appeals/new/suggest/", views.appeal_suggest, name="appeal_suggest"),
    path("appeals/submit/", views.appeal_submit, name="appeal_submit"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal_detail"),
    path("appeals/<int:pk>/actions/<slug:action>/", views.appeal_act, name="appeal_act"),
    path("appeals/<int:pk>/attachments/", views.appeal_attach, name="appeal_attach"),
    path("appeals/<int:pk>/attachments/<int:attachment_id>/", views.appeal_attachment, name="appeal_attachment"),
    # The escalation ladder, its meetings and the fallback lane.
    path("appeals/<int:pk>/escalation-form.docx", ladder_views.escalation_form_view, name="appeal_escalation_form"),
    path("appeals/<int:pk>/tasks/<int:task_id>/done/", ladder_views.task_done, name="appeal_task_done"),
    path("appeals/revisits/", revisit_views.revisit_list, name="revisit_list"),
    path("appeals/revisits/<int:pk>/", revisit_views.revisit_record, name="revisit_record"),
    path("appeals/ratings/", rating_views.rating_page, name="rating_page"),
    path("appeals/<int:pk>/officer-rating/", rating_views.officer_rating, name="appeal_officer_rating"),
    path("appeals/escalated/", ladder_views.escalated_list, name="escalated_list"),
    path("appeals/fallback/", ladder_views.fallback_list, name="fallback_list"),
    path("meetings/", ladder_views.meetings, name="ladder_meetings"),
    path("meetings/<int:pk>/", ladder_views.meeting_detail, name="ladder_meeting"),
    path("meetings/<int:pk>/minutes/", ladder_views.meeting_minutes, name="ladder_meeting_minutes"),
    path("meetings/<int:pk>/files/", ladder_views.meeting_attach, name="ladder_meeting_attach"),
    path("meetings/<int:pk>/files/<int:attachment_id>/", ladder_views.meeting_file, name="ladder_meeting_file"),
]

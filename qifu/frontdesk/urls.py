from django.urls import path

from . import views

urlpatterns = [
    path("frontdesk/", views.visit_list, name="desk_visits"),
    path("frontdesk/new/", views.visit_new, name="desk_visit_new"),
    path("frontdesk/flagged/", views.visit_flagged, name="desk_visits_flagged"),
    path("frontdesk/<int:pk>/", views.visit_detail, name="desk_visit"),
    path("frontdesk/<int:pk>/<slug:action>/", views.visit_action, name="desk_visit_action"),
    path("frontdesk/documents/<int:pk>/", views.notice_download, name="desk_notice_download"),
    path("track/", views.track, name="track"),
]

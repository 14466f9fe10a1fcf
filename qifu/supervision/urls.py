from django.urls import path

from . import views

urlpatterns = [
    path("supervision/", views.desk, name="supervision_desk"),
    path("supervision/abnormal/<slug:name>/", views.abnormal_list, name="supervision_abnormal"),
    path("supervision/slips/<int:slip_id>.docx", views.slip_docx, name="supervision_slip_docx"),
    path("supervision/slips/<int:slip_id>/answer/", views.slip_answer, name="supervision_slip_answer"),
    path("supervision/records/<int:record_id>/follow-up/", views.follow_up, name="supervision_follow_up"),
    path("appeals/<int:pk>/slips/", views.slip_issue, name="supervision_slip_issue"),
    path("appeals/<int:pk>/instructions/", views.instruct, name="supervision_instruct"),
]

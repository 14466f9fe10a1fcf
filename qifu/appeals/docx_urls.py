from django.urls import path

from . import views_docx

urlpatterns = [
    path("appeals/<int:pk>/assignment-slip.docx", views_docx.assignment_slip_view, name="appeal_assignment_slip"),
]

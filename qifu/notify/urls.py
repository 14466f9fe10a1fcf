from django.urls import path

from . import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", views.read_one, name="inbox_read"),
]

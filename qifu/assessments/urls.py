from django.urls import path

from . import views

urlpatterns = [
    path("stats/ranking/", views.ranking_page, name="ranking_page"),
    path("stats/ranking/inputs/", views.ranking_input, name="ranking_input"),
    path("stats/ranking/publish/", views.ranking_publish, name="ranking_publish"),
]

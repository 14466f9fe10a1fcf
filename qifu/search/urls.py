from django.urls import path

from . import views

urlpatterns = [
    path("search/", views.search_page, name="search_page"),
    path("search/ask/", views.ask_person, name="search_ask"),
]

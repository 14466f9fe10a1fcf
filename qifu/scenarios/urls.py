from django.urls import path

from . import views

urlpatterns = [
    path("scenarios/", views.scenario_list, name="scenario_list"),
    path("scenarios/<slug:code>/", views.scenario_detail, name="scenario_detail"),
    path("scenarios/<slug:code>/start/", views.scenario_start, name="scenario_start"),
    path("agency-cases/", views.case_list, name="agency_case_list"),
    path("agency-cases/<int:pk>/", views.case_detail, name="agency_case"),
    path("agency-cases/<int:pk>/items/<int:item_id>/", views.case_item_action, name="agency_case_item"),
    path("agency-cases/<int:pk>/items/<int:item_id>/documents/", views.case_attach, name="agency_case_attach"),
    path("agency-cases/<int:pk>/documents/<int:document_id>/", views.case_document, name="agency_case_document"),
    path("agency-cases/<int:pk>/add/", views.case_add_item, name="agency_case_add"),
    path("agency-cases/<int:pk>/agent/", views.case_reassign, name="agency_case_reassign"),
]

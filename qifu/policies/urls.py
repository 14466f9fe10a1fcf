from django.urls import path

from . import views

urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/import/", views.policy_import, name="policy_import"),
    path("policies/export.yaml", views.policy_export, name="policy_export"),
    path("policies/mine/", views.my_policies, name="my_policies"),
    path("policies/payouts/", views.payout_list, name="policy_payouts"),
    path("policies/payouts/<int:pk>/pay/", views.payout_pay, name="policy_payout_pay"),
    path("policies/applications/", views.application_list, name="policy_applications"),
    path("policies/applications/<int:pk>/", views.application_detail, name="policy_application_detail"),
    path("policies/applications/<int:pk>/actions/<slug:action>/", views.application_act,
         name="policy_application_act"),
    path("policies/applications/<int:pk>/materials/<int:material_id>/", views.material_download,
         name="policy_material"),
    path("policies/builder/check/", views.builder_check, name="policy_builder_check"),
    path("policies/builder/try/", views.builder_try, name="policy_builder_try"),
    path("policies/builder/enterprises/", views.builder_enterprises, name="policy_builder_enterprises"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/publish/", views.policy_publish, name="policy_publish"),
    path("policies/<int:pk>/retire/", views.policy_retire, name="policy_retire"),
    path("policies/<int:pk>/clauses/new/", views.clause_new, name="policy_clause_new"),
    path("policies/<int:pk>/performance/", views.policy_performance, name="policy_performance"),
    path("policies/<int:pk>/performance.xlsx", views.policy_performance_xlsx, name="policy_performance_xlsx"),
    path("policies/clauses/<int:pk>/edit/", views.clause_edit, name="policy_clause_edit"),
    path("policies/clauses/<int:pk>/delete/", views.clause_delete, name="policy_clause_delete"),
    path("policies/clauses/<int:pk>/apply/", views.clause_apply, name="policy_clause_apply"),
    path("policies/clauses/<int:pk>/confirm/", views.clause_confirm, name="policy_clause_confirm"),
]

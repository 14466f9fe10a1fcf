from django.urls import path

from . import views

urlpatterns = [
    path("knowledge/", views.knowledge_home, name="knowledge_home"),
    path("knowledge/entries/new/", views.entry_new, name="knowledge_entry_new"),
    path("knowledge/entries/<int:pk>/", views.entry_detail, name="knowledge_entry"),
    path("knowledge/entries/<int:pk>/edit/", views.entry_edit, name="knowledge_entry_edit"),
    path("knowledge/cases/<int:pk>/", views.case_detail, name="knowledge_case"),
    path("knowledge/cases/<int:pk>/edit/", views.case_edit, name="knowledge_case_edit"),
    path("knowledge/cases/<int:pk>/state/", views.case_state, name="knowledge_case_state"),
    path("knowledge/cases/from-appeal/<int:appeal_id>/", views.case_from_appeal, name="knowledge_case_from_appeal"),
    path("knowledge/promotions/", views.promotions, name="knowledge_promotions"),
    path("knowledge/promotions/new/", views.promote, name="knowledge_promote"),
    path("knowledge/promotions/<int:pk>/drop/", views.promotion_drop, name="knowledge_promotion_drop"),
]

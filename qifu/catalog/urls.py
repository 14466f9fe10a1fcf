from django.urls import path

from . import views

urlpatterns = [
    path("catalog/", views.catalog_list, name="catalog_list"),
    path("catalog/template.xlsx", views.catalog_template, name="catalog_template"),
    path("catalog/import/", views.catalog_import, name="catalog_import"),
    path("catalog/layout.xlsx", views.catalog_layout_export, name="catalog_layout_export"),
    path("catalog/<slug:code>/", views.catalog_item, name="catalog_item"),
    path("catalog/<slug:code>/guide/", views.guide_edit, name="catalog_guide_edit"),
    path("handbook/", views.handbook, name="handbook"),
]

from django.urls import path

from . import listing_views, views

urlpatterns = [
    path("catalog/", views.catalog_list, name="catalog_list"),
    path("catalog/template.xlsx", views.catalog_template, name="catalog_template"),
    path("catalog/import/", views.catalog_import, name="catalog_import"),
    path("catalog/layout.xlsx", views.catalog_layout_export, name="catalog_layout_export"),
    path("catalog/listings/", listing_views.listing_list, name="catalog_listings"),
    path("catalog/listings/new/", listing_views.listing_new, name="catalog_listing_new"),
    path("catalog/listings/<int:pk>/", listing_views.listing_detail, name="catalog_listing"),
    path("catalog/listings/<int:pk>/correct/", listing_views.listing_correct, name="catalog_listing_correct"),
    path("catalog/adjustment/", listing_views.adjustment, name="catalog_adjustment"),
    path("catalog/<slug:code>/change/", listing_views.listing_change, name="catalog_listing_change"),
    path("catalog/<slug:code>/", views.catalog_item, name="catalog_item"),
    path("catalog/<slug:code>/request/", views.request_new, name="catalog_request"),
    path("catalog/<slug:code>/guide/", views.guide_edit, name="catalog_guide_edit"),
    path("handbook/", views.handbook, name="handbook"),
]

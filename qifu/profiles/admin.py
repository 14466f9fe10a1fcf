from django.contrib import admin

from .models import Dimension, Indicator, IndicatorValue, TagRule


@admin.register(Dimension)
class DimensionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "region", "weight", "sort_order")
    list_filter = ("region",)


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "dimension", "datatype", "unit", "category", "source", "weight",
                    "higher_is_better", "region")
    list_filter = ("region", "dimension", "category", "datatype")
    search_fields = ("code", "name")


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "indicator", "value_number", "value_text", "value_date", "as_of", "source",
                    "imported_at")
    list_filter = ("indicator__region", "indicator", "source")
    search_fields = ("enterprise__name", "enterprise__uscc", "indicator__code")
    raw_id_fields = ("enterprise",)
    readonly_fields = ("imported_at", "imported_by")
    date_hierarchy = "as_of"


@admin.register(TagRule)
class TagRuleAdmin(admin.ModelAdmin):
    list_display = ("tag", "region", "active", "updated_at")
    list_filter = ("region", "active")

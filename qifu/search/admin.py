from django.contrib import admin

from .models import QuestionAnswer


@admin.register(QuestionAnswer)
class QuestionAnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "item", "source", "active")
    list_filter = ("active", "item__region")
    search_fields = ("question", "answer", "item__code", "item__name")
    raw_id_fields = ("item",)

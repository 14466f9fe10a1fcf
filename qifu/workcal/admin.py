from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _

from qifu.lib import uploads

from . import workdays
from .models import CalendarDay, CalendarYear


class ImportForm(forms.Form):
    file = uploads.FileField(label=_("Schedule file"), help_text=_("One line per day: DATE,holiday|workday[,name]"),
                             kind=uploads.CALENDAR)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "note")
    change_list_template = "admin/workcal/calendaryear/change_list.html"

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="workcal_import")] + super().get_urls()

    def import_view(self, request):
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                years = workdays.import_schedule(text, source="import:" + form.cleaned_data["file"].name)
            except (ValueError, UnicodeDecodeError) as e:
                messages.error(request, _("Nothing imported: %s") % e)
            else:
                messages.success(request, _("Imported the schedule for %s.") % ", ".join(map(str, years)))
                return redirect("admin:workcal_calendaryear_changelist")
        return render(request, "admin/workcal/import.html", {**self.admin_site.each_context(request), "form": form,
                                                             "title": _("Import a holiday schedule")})


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"

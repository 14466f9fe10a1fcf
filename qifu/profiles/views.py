"""Pages: the tag library (tags, their enterprises and rules), manual tags on an enterprise, and the import
of departmental data. Querysets come from accounts.scopes; writes from .services."""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qifu.accounts import scopes
from qifu.enterprises.models import Enterprise, Tag
from qifu.enterprises.forms import ENTERPRISE_COLUMNS
from qifu.lib import exports, uscc
from qifu.org.models import Region
from qifu.rules import conditions

from . import catalog, services
from .forms import ManualTagForm, TagRuleForm, ValueImportForm
from .importer import ImportFileError, import_values
from .models import Indicator, TagRule


def is_staff(user) -> bool:
    return scopes.is_admin(user) or bool(user.roles & scopes.STAFF_ROLES)


def _require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied


def _home_region(user) -> Region | None:
    region_id = scopes.home_region_id(user)
    if region_id:
        return Region.objects.get(pk=region_id)
    regions = scopes.regions(user)
    return regions.first() if regions.count() == 1 else None


def conditions_text(conditions) -> str:
    return yaml.safe_dump(conditions, allow_unicode=True, sort_keys=False, default_flow_style=False).strip()


TAG_COLUMNS = [
    (gettext_lazy("tag"), lambda t: t.name), (gettext_lazy("kind"), lambda t: t.get_kind_display()),
    (gettext_lazy("description"), lambda t: t.description), (gettext_lazy("number of enterprises"), lambda t: t.n),
]


@login_required
def tag_list(request):
    user = request.user
    _require_staff(user)
    can_manage = services.may_manage_tags(user)
    form = ManualTagForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            tag = Tag.objects.create(kind=Tag.Kind.MANUAL, **form.cleaned_data)
            messages.success(request, _("Created the tag %(name)s.") % {"name": tag.name})
            return redirect("tag_detail", pk=tag.pk)
    visible = scopes.enterprises(user).values("pk")
    tags = Tag.objects.annotate(n=Count("enterprises", filter=Q(enterprises__in=visible), distinct=True))
    kind = request.GET.get("kind")
    if kind in Tag.Kind.values:
        tags = tags.filter(kind=kind)
    rules: dict[int, list[TagRule]] = {}
    for rule in TagRule.objects.filter(region__in=scopes.regions(user)).select_related("region"):
        rule.text = conditions_text(rule.conditions)
        rules.setdefault(rule.tag_id, []).append(rule)
    tags = tags.order_by("kind", "name")
    if exports.wants_xlsx(request):
        return exports.export_list(_("Tag library"), TAG_COLUMNS, tags, name="tags")
    rows = [{"tag": t, "n": t.n, "rules": rules.get(t.pk, [])} for t in tags]
    return render(request, "profiles/tag_list.html", {
        "rows": rows, "form": form, "can_manage": can_manage, "kind": kind, "kinds": Tag.Kind.choices,
    })


@login_required
def tag_detail(request, pk: int):
    user = request.user
    _require_staff(user)
    tag = get_object_or_404(Tag, pk=pk)
    can_manage = services.may_manage_tags(user)
    visible = scopes.enterprises(user)
    if request.method == "POST":
        if not can_manage or tag.kind != Tag.Kind.MANUAL:
            raise PermissionDenied
        code = uscc.normalize(request.POST.get("uscc", ""))
        enterprise = visible.filter(uscc=code).first()
        if enterprise is None:
            messages.error(request, _("No enterprise with the code %(code)s is registered here.") % {"code": code})
        else:
            enterprise.tags.add(tag)
            messages.success(request, _("Tagged %(name)s.") % {"name": enterprise.name})
        return redirect("tag_detail", pk=tag.pk)
    enterprises = visible.filter(tags=tag).select_related("jurisdiction").order_by("name", "pk")
    if exports.wants_xlsx(request):
        return exports.export_list(tag.name, ENTERPRISE_COLUMNS, enterprises, name=f"tag-{tag.pk}")
    page = Paginator(enterprises, 50).get_page(request.GET.get("page"))
    rules = list(TagRule.objects.filter(tag=tag, region__in=scopes.regions(user)).select_related("region"))
    for rule in rules:
        rule.text = conditions_text(rule.conditions)
    return render(request, "profiles/tag_detail.html", {
        "tag": tag, "page": page, "rules": rules, "can_manage": can_manage,
    })


@login_required
@require_POST
def enterprise_manual_tag(request, pk: int):
    """Add (`add`) or remove (`remove`) a manual tag of an enterprise; dynamic tags are the rules' business."""
    user = request.user
    if not services.may_manage_tags(user):
        raise PermissionDenied
    enterprise = get_object_or_404(scopes.enterprises(user), pk=pk)
    tag = get_object_or_404(Tag, pk=request.POST.get("tag"), kind=Tag.Kind.MANUAL)
    if request.POST.get("action") == "remove":
        enterprise.tags.remove(tag)
    else:
        enterprise.tags.add(tag)
    back = request.POST.get("next") or ""
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("enterprise_detail", pk=enterprise.pk)


@login_required
def tag_rule_edit(request, pk: int | None = None):
    user = request.user
    if not services.may_manage_tags(user):
        raise PermissionDenied
    rule = None
    if pk is not None:
        rule = get_object_or_404(TagRule.objects.select_related("tag", "region").filter(
            region__in=scopes.regions(user)), pk=pk)
    region = rule.region if rule else _home_region(user)
    if region is None:
        raise PermissionDenied
    initial = {"active": True}
    if rule is not None:
        initial = {"tag": rule.tag.name, "conditions": conditions_text(rule.conditions),
                   "description": rule.description, "active": rule.active}
    elif request.GET.get("tag"):
        initial["tag"] = request.GET["tag"]
    form = TagRuleForm(request.POST or None, initial=initial, rule=rule)
    if request.method == "POST" and form.is_valid():
        known = {f.code for f in catalog.fields(region)} | {"uscc", "name", "region"}
        unknown = conditions.parse(form.cleaned_data["conditions"]).fields() - known
        if unknown:
            form.add_error("conditions", _("Unknown field(s): %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
        else:
            with transaction.atomic():
                tag = rule.tag if rule else Tag.objects.filter(name=form.cleaned_data["tag"]).first()
                if tag is None:
                    tag = Tag.objects.create(name=form.cleaned_data["tag"], kind=Tag.Kind.DYNAMIC, category="画像")
                rule = rule or TagRule.objects.filter(region=region, tag=tag).first() or TagRule(region=region, tag=tag)
                rule.conditions = form.cleaned_data["conditions"]
                rule.description = form.cleaned_data["description"]
                rule.active = form.cleaned_data["active"]
                rule.full_clean()
                rule.save()
                changes = services.apply_tag_rules(Enterprise.objects.filter(region=region))
            messages.success(request, _("Saved. %(added)d enterprises tagged, %(removed)d untagged.") % {
                "added": changes.added, "removed": changes.removed})
            return redirect("tag_detail", pk=rule.tag_id)
    return render(request, "profiles/rule_form.html", {
        "form": form, "rule": rule, "region": region, "fields": catalog.fields(region),
    })


@login_required
def value_import(request):
    user = request.user
    if not services.may_write_values(user):
        raise PermissionDenied
    region = _home_region(user)
    form = ValueImportForm(request.POST or None, request.FILES or None,
                           initial={"source": services.own_source(user) or ""})
    report = None
    if request.method == "POST" and region is None:
        form.add_error(None, _("Your account belongs to no region: ask an administrator to set one."))
    if request.method == "POST" and form.is_valid() and region is not None:
        upload = form.cleaned_data["file"]
        try:
            report = import_values(upload, region, filename=upload.name,
                                   source=form.cleaned_data["source"] or None, as_of=form.cleaned_data["as_of"],
                                   skip_bad_rows=form.cleaned_data["skip_bad_rows"], user=user)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
    return render(request, "profiles/import.html", {
        "form": form, "report": report, "region": region,
        "fields": [{"code": f.code, "label": f.label, "unit": f.unit,
                    "datatype_label": Indicator.Datatype(f.datatype).label if f.datatype in Indicator.Datatype.values
                    else f.datatype}
                   for f in catalog.fields(region) if f not in catalog.BASE] if region else [],
    })

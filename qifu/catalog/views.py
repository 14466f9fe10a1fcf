"""Pages of the service catalog: `/catalog/` (the list with search, filters and Excel, phone-friendly), an item's
page, the import template and the region's catalog in the seeds' layout (staff). Rules: `.services`."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from qifu.accounts import scopes
from qifu.lib import exports

from . import filing, listing, services, spreadsheet
from .forms import CatalogFilterForm


def _seeing(user) -> None:
    if not services.may_see(user):
        raise PermissionDenied


@login_required
def catalog_list(request):
    user = request.user
    _seeing(user)
    form = CatalogFilterForm(request.GET or None, user=user)
    qs = services.items(user)
    if form.is_bound and not form.is_valid():
        qs = qs.none()
    qs = services.narrow(qs, **form.filters())
    if exports.wants_xlsx(request):
        exports.refuse_invalid(form)
        return _export(qs)
    from django.core.paginator import Paginator

    return render(request, "catalog/list.html", {
        "form": form, "items": Paginator(qs, 30).get_page(request.GET.get("page")),
        "staff": services.is_staff(user), "region": scopes.regions(user).first(), "may_import": services.may_import(user),
        "may_submit": listing.may_submit(user),
        "handbook_node": form.filters().get("node", "") if form.filters().get("node") != services.COMMON else "",
    })


def _export(qs):
    return exports.export_list(_("Service catalog"), [
        (_("code"), lambda i: i.code), (_("list"), lambda i: i.node.name if i.node else _("common list (共性清单)")),
        (_("number"), lambda i: i.seq), (_("section"), lambda i: i.section.name if i.section else ""),
        (_("first-level category"), lambda i: i.category1), (_("second-level category"), lambda i: i.category2),
        (_("service item"), lambda i: i.name), (_("provider side"), lambda i: i.get_provider_side_display()),
        (_("service content"), lambda i: i.content), (_("service process"), lambda i: i.process),
        (_("responsible units"), lambda i: i.units_text), (_("frequency"), lambda i: i.get_frequency_display()),
        (_("target users"), lambda i: i.target_users), (_("service area"), lambda i: i.area),
        (_("term"), lambda i: i.get_term_display()), (_("online channel"), lambda i: i.online_channel),
        (_("offline channel"), lambda i: i.offline_channel), (_("contact"), lambda i: i.contact),
    ], qs, name="service-catalog")


@login_required
def catalog_item(request, code: str):
    user = request.user
    _seeing(user)
    item = get_object_or_404(services.items(user), code=code)
    guide = services.guide_of(item)
    return render(request, "catalog/item.html", {
        "item": item, "units": item.unit_list(), "staff": services.is_staff(user), "guide": guide,
        "materials": list(guide.materials.all()) if guide else [], "may_edit": services.may_edit_guide(user, item),
        "may_submit_change": listing.may_submit(user), "may_request": filing.may_request(user)})


@login_required
def request_new(request, code: str):
    """申请办理: an enterprise (or the front desk for one) requests the item — an appeal routed to its units."""
    from django.db import IntegrityError
    from django.shortcuts import redirect

    from qifu.appeals import queries, workflow
    from qifu.appeals.models import Channel

    from .forms import ServiceRequestForm

    user = request.user
    _seeing(user)
    item = get_object_or_404(services.items(user), code=code)
    if not filing.may_request(user):
        raise PermissionDenied
    staff = bool(user.roles & scopes.STAFF_ROLES)
    form = ServiceRequestForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enterprise = queries.enterprise_for_intake(user, data.get("enterprise_uscc"))
            channel = Channel.objects.get(code="walk_in" if staff else "online")
            appeal, _created = filing.file(actor=user, item=item, enterprise=enterprise, channel=channel,
                                             description=data["description"], contact_name=data["contact_name"],
                                             contact_phone=data["contact_phone"])
        except (workflow.WorkflowError, IntegrityError, Channel.DoesNotExist) as error:
            form.add_error(None, str(error) or _("The request could not be filed."))
        else:
            return redirect("appeal_detail", pk=appeal.pk)
    return render(request, "catalog/request_form.html", {"item": item, "form": form, "staff": staff})


def _staff_region(request):
    user = request.user
    if not services.is_staff(user):
        raise PermissionDenied
    code = request.GET.get("region", "")
    regions = scopes.regions(user)
    region = regions.filter(code=code).first() if code else regions.first()
    if region is None:
        raise PermissionDenied
    return region


@login_required
def catalog_template(request):
    region = _staff_region(request)
    return exports.download(spreadsheet.workbook(region, []), exports.XLSX, "service-catalog-template.xlsx",
                            "涉企服务事项清单导入模板.xlsx")


@login_required
def catalog_layout_export(request):
    """The whole region's catalog in the seeds' layout (the file `qifu catalog import` reads back)."""
    region = _staff_region(request)
    day = timezone.localdate().isoformat()
    return exports.download(spreadsheet.export(region), exports.XLSX, f"service-catalog-{region.code}-{day}.xlsx",
                            f"{region.name}涉企服务事项清单-{day}.xlsx")


@login_required
def guide_edit(request, code: str):
    from django.contrib import messages
    from django.db import transaction
    from django.shortcuts import redirect

    from .forms import GuideForm, material_formset
    from .models import ServiceGuide

    user = request.user
    _seeing(user)
    item = get_object_or_404(services.items(user), code=code)
    if not services.may_edit_guide(user, item):
        raise PermissionDenied
    guide = services.guide_of(item) or ServiceGuide(
        item=item, handling_unit=item.units_text, target=item.target_users, process=item.process,
        online_channel=item.online_channel, offline_channel=item.offline_channel)
    Materials = material_formset()
    form = GuideForm(request.POST or None, instance=guide)
    materials = Materials(request.POST or None, instance=guide, prefix="materials")
    if request.method == "POST" and form.is_valid() and materials.is_valid():
        with transaction.atomic():
            saved = form.save()
            materials.instance = saved
            materials.save()
        messages.success(request, _("The service guide was saved."))
        return redirect("catalog_item", code=item.code)
    return render(request, "catalog/guide_form.html", {"item": item, "form": form, "materials": materials})


@login_required
def handbook(request):
    """`/handbook/?region=CODE[&node=CODE]`: the enterprise service handbook (.docx) of a region, or of one node
    (its own items and the common ones)."""
    from django.http import Http404

    from . import handbook as book

    user = request.user
    _seeing(user)
    regions = scopes.regions(user)
    code = request.GET.get("region", "")
    region = regions.filter(code=code).first() if code else regions.first()
    if region is None:
        raise Http404
    node = None
    if request.GET.get("node"):
        node = region.nodes.filter(code=request.GET["node"]).first()
        if node is None:
            raise Http404
    scope = node.name if node is not None else region.name
    day = timezone.localdate().isoformat()
    ascii_name = f"handbook-{region.code}{'-' + node.code if node else ''}-{day}.docx"
    return exports.download(book.document(region, node), exports.DOCX, ascii_name, f"{scope}企业服务手册-{day}.docx")


@login_required
def catalog_import(request):
    """The spreadsheet import on the web (administrators and dispatchers): the same checks as `qifu catalog import`."""
    from django.contrib import messages

    from qifu.lib import uploads

    user = request.user
    if not services.may_import(user):
        raise PermissionDenied
    region = scopes.regions(user).filter(pk=scopes.home_region_id(user)).first() or scopes.regions(user).first()
    if region is None:
        raise PermissionDenied
    nodes = region.nodes.order_by("code")
    report, problem = None, None
    if request.method == "POST":
        upload = request.FILES.get("file")
        node = nodes.filter(code=request.POST.get("node", "")).first() if request.POST.get("node") else None
        if upload is None:
            problem = _("Choose an Excel (.xlsx) file in the catalog's layout.")
        else:
            try:
                upload.name = uploads.check(upload, uploads.SPREADSHEET)
                report = spreadsheet.import_items(upload, region, node=node, dry_run=bool(request.POST.get("dry_run")),
                                                  filename=upload.name)
            except (uploads.UploadError, spreadsheet.ImportFileError) as error:
                problem = str(error)
        if problem:
            messages.error(request, problem)
    return render(request, "catalog/import.html", {"region": region, "nodes": nodes, "report": report})

"""Word downloads of appeals: the assignment slip (交办单)."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from qifu.accounts import scopes

from . import forms_docx
from .models import Status

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SLIP_STATUSES = (Status.ASSIGNED, Status.HANDLED, Status.CLOSED)


@require_GET
@login_required
def assignment_slip_view(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(scopes.appeals(request.user).select_related("region", "enterprise", "lead_department"),
                               pk=pk)
    if appeal.status not in SLIP_STATUSES or appeal.lead_department_id is None:
        return HttpResponseBadRequest(_("Only an appeal assigned to a lead department has an assignment slip."))
    response = HttpResponse(forms_docx.assignment_slip(appeal, request.user), content_type=DOCX)
    # RFC 6266 / RFC 5987: an ASCII name for old clients, the Chinese one for everyone else.
    response["Content-Disposition"] = (f'attachment; filename="assignment-slip-{appeal.number}.docx"; '
                                       f"filename*=UTF-8''{quote(f'交办单-{appeal.number}.docx')}")
    return response

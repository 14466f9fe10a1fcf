"""The search page (/search/?q=): the smart Q&A's best answer, then every kind of result ranked; "ask a person"
(POST /search/ask/) turns the question into an appeal."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qifu.lib import inputs

from . import engine, qa

PER_PAGE = 20


def check(q: str) -> str:
    """An error message for a query that cannot be searched, or ''."""
    if not q.strip():
        return _("Type what you are looking for.")
    if len(q) > engine.Q_MAX:
        return _("The search is too long (at most %(n)d characters).") % {"n": engine.Q_MAX}
    if inputs.has_nul(q):
        return _("The request is not valid.")
    return ""


@login_required
def search_page(request):
    user = request.user
    if not (user.roles or user.is_superuser):
        raise PermissionDenied
    q = request.GET.get("q", "")
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 500))
    except ValueError:
        page = 1
    error = check(q) if q else ""
    context = {"q": q, "error": error, "hits": [], "total": 0, "page": page, "answer": None,
               "may_ask": qa.may_ask(user), "labels": engine.KIND_LABELS}
    if q and not error:
        total, hits = engine.search(user, q, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        context.update(total=min(total, engine.COUNT_CAP), capped=total > engine.COUNT_CAP, hits=hits, answer=qa.answer(user, q) if page == 1 else None,
                       has_next=page * PER_PAGE < total, has_previous=page > 1)
    return render(request, "search/search.html", context, status=400 if error else 200)


@login_required
@require_POST
def ask_person(request):
    user = request.user
    if not qa.may_ask(user):
        raise PermissionDenied
    question = request.POST.get("q", "")
    error = check(question) or (_("The request is not valid.") if inputs.has_nul(request.POST.get("details", ""))
                                else "")
    if error:
        messages.error(request, error)
        return redirect("search_page")
    from qifu.appeals import workflow

    try:
        appeal = qa.ask_person(user, question, request.POST.get("details", "")[:2000])
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
        return redirect("search_page")
    messages.success(request, _("Your question was submitted as appeal %(number)s. The center will answer you.")
                     % {"number": appeal.number})
    return redirect("appeal_detail", pk=appeal.pk)

"""/appeals/ratings/ — 好差评 added up (`ratings.rows_of`): per lead unit, section, liaison officer or case, the
enterprises' answers or the liaison officers' ratings of the units, for all time, a month or a date range; Excel.
And the two-way rating form of one closed case (`/appeals/<pk>/officer-rating/`)."""

from django import forms as djforms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qifu.lib import exports
from qifu.lib.inputs import InputError

from . import ratings, stats, workflow
from .forms import RATING_ANSWERS, RATING_REQUIRED, _styled
from .models import Appeal


class RatingFilter(djforms.Form):
    by = djforms.ChoiceField(label=gettext_lazy("by"), required=False, choices=list(ratings.BY.items()))
    source = djforms.ChoiceField(label=gettext_lazy("ratings"), required=False, choices=list(ratings.SOURCES.items()))
    date_from = djforms.DateField(label=gettext_lazy("rated on or after"), required=False,
                                  widget=djforms.DateInput(attrs={"type": "date"}))
    date_to = djforms.DateField(label=gettext_lazy("rated on or before"), required=False,
                                widget=djforms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class OfficerRatingForm(djforms.Form):
    rating = djforms.ChoiceField(label=gettext_lazy("rating"), choices=RATING_ANSWERS, widget=djforms.RadioSelect,
                                 error_messages={"required": RATING_REQUIRED})
    comment = djforms.CharField(label=gettext_lazy("comment"), required=False, max_length=2000,
                                widget=djforms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


@login_required
def rating_page(request):
    user = request.user
    if not ratings.may_see(user):
        raise PermissionDenied
    form = RatingFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    error = ""
    try:
        by, source = ratings.check(data.get("by") or None, data.get("source") or None)
        period = ratings.period(None, data.get("date_from"), data.get("date_to"), stats.zone_of(user))
    except (InputError, workflow.TransitionError) as problem:
        error = str(problem)
        by, source, period = "department", "enterprise", None
    total, rows = ratings.rows_of(user, by, source, period.start if period else None, period.end if period else None)
    if exports.wants_xlsx(request):
        return ratings.download(total, rows, by, source, period)
    return render(request, "appeals/ratings.html", {
        "form": form, "error": error, "by": by, "by_label": ratings.BY[by], "source": source,
        "source_label": ratings.SOURCES[source], "total": total, "rows": rows,
        "period": period})


@login_required
@require_POST
def officer_rating(request, pk: int):
    form = OfficerRatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, RATING_REQUIRED)
        return redirect("appeal_detail", pk=pk)
    try:
        ratings.rate(pk, request.user, form.cleaned_data["rating"], form.cleaned_data["comment"])
    except Appeal.DoesNotExist:
        raise Http404 from None
    except workflow.NotAllowed:
        raise PermissionDenied from None
    except workflow.TransitionError as error:
        messages.error(request, str(error))
        return redirect("appeal_detail", pk=pk)
    messages.success(request, _("Thank you: your rating was recorded."))
    return redirect("appeal_detail", pk=pk)

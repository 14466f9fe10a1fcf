"""`{% case_library appeal %}` on an appeal's page: the "publish as a case" button for those who may, or the link to
the case already made from it (a separate block, so the appeal's view needs nothing from the knowledge base)."""

from django import template

register = template.Library()


@register.inclusion_tag("knowledge/_appeal_case.html", takes_context=True)
def case_library(context, appeal):
    from qifu.appeals.models import Resolution, Status

    from .. import services
    from ..models import CaseStudy

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not services.is_staff(user):
        return {"show": False}
    case = CaseStudy.objects.filter(source_appeal=appeal).first()
    if case is not None:
        return {"show": True, "case": case}
    closed = appeal.status == Status.CLOSED and appeal.resolution == Resolution.SOLVED
    return {"show": closed and services.may_publish_case(user, appeal), "appeal": appeal}

"""`{% load scenarios %}{% agency_card user %}`: a small card on the home page — an agent's open agency cases (its
queue), an enterprise's own cases — with the count and a link; nothing for anyone else."""

from django import template

register = template.Library()


@register.inclusion_tag("scenarios/_agency_card.html")
def agency_card(user):
    from qifu.accounts import scopes

    from ..cases import AGENT_ROLES, visible
    from ..models import AgencyCase

    if scopes.enterprise_only(user):
        mine = visible(user).filter(status=AgencyCase.Status.OPEN)
        return {"show": True, "enterprise": True, "n": mine.count(), "query": "status=open"}
    if user.has_role(*AGENT_ROLES):
        n = AgencyCase.objects.filter(agent=user, status=AgencyCase.Status.OPEN).count()
        return {"show": True, "enterprise": False, "n": n, "query": "status=open&mine=yes"}
    return {"show": False}

"""`{% enterprise_profile enterprise as profile %}`: what the profile card on an enterprise page shows."""

from django import template

from qifu.enterprises.models import Tag
from qifu.org.models import Department

from .. import services
from ..views import is_staff

register = template.Library()


@register.simple_tag(takes_context=True)
def enterprise_profile(context, enterprise):
    """The enterprise's profile (the page has already checked the user may see the enterprise)."""
    user = context.get("user")
    profile = services.enterprise_profile(enterprise)
    sources = {r["source"] for r in profile["indicators"] if r["source"]}
    names = dict(Department.objects.filter(code__in=sources).values_list("code", "name")) if sources else {}
    for row in profile["indicators"]:
        row["source_name"] = names.get(row["source"], row["source"])
    profile["radar"] = {
        "indicators": [{"name": d["name"], "max": 100} for d in profile["dimensions"]],
        "values": [d["score"] if d["score"] is not None else 0 for d in profile["dimensions"]],
        "label": enterprise.name,
    }
    profile["is_staff"] = bool(user is not None and user.is_authenticated and is_staff(user))
    profile["can_tag"] = bool(user is not None and user.is_authenticated and services.may_manage_tags(user))
    if profile["can_tag"]:
        own = {t["name"] for t in profile["tags"]}
        profile["manual_tags"] = [t for t in Tag.objects.filter(kind=Tag.Kind.MANUAL) if t.name not in own]
        profile["own_manual_tags"] = list(enterprise.tags.filter(kind=Tag.Kind.MANUAL))
    return profile

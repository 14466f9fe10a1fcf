"""Who sees which service items, and the catalog's filters and search (one definition for the pages, the Excel
export and the API).

The catalog is public information for the region's enterprises: every signed-in user with a role — staff and
enterprise users alike — sees every item of their region; administrators see every region's. Enterprises see only
listed items (服务上架审批, `.listing`); staff see the unlisted ones too, marked. There is no anonymous
access (like the rest of the product, the region is the signed-in user's).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from qifu.accounts import scopes

from .models import ServiceItem

SEARCH_FIELDS = ("name", "content", "category1", "category2", "process", "units_text", "target_users")
COMMON = "common"  # the `node` filter's value for the common list (共性清单)


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def may_see(user) -> bool:
    return scopes.is_admin(user) or (_active(user) and bool(user.roles))


def is_staff(user) -> bool:
    return _active(user) and (scopes.is_admin(user) or bool(user.roles & scopes.STAFF_ROLES))


def items(user) -> QuerySet[ServiceItem]:
    qs = ServiceItem.objects.select_related("node", "section").prefetch_related("units")
    if scopes.is_admin(user):
        return qs
    if not may_see(user):
        return qs.none()
    region_id = scopes.home_region_id(user)
    if not is_staff(user):
        qs = qs.filter(listed=True)  # only approved services appear to enterprises
    return qs.filter(region_id=region_id) if region_id else qs.none()


def terms(q: str) -> list[str]:
    """The words of a search (jieba), or the whole search when it has none that count."""
    from qifu.appeals import routing

    q = (q or "").strip()
    if not q:
        return []
    return list(dict.fromkeys(routing.words(q)))[:8] or [q[:50]]


def search(qs: QuerySet, q: str) -> QuerySet:
    """The items that contain every word of `q` in their name, content, categories, process, units or target
    users (in the database: the list stays paginated there)."""
    for word in terms(q):
        condition = Q()
        for name in SEARCH_FIELDS:
            condition |= Q(**{f"{name}__icontains": word})
        qs = qs.filter(condition)
    return qs


def narrow(qs: QuerySet, *, q: str = "", section: str = "", node: str = "", category: str = "",
           provider_side: str = "") -> QuerySet:
    """Filters by codes: `section` (section code), `node` (node code, or "common" for the common list),
    `category` (first-level category), `provider_side` (government, market, society)."""
    if section:
        qs = qs.filter(section__code=section)
    if node == COMMON:
        qs = qs.filter(node__isnull=True)
    elif node:
        qs = qs.filter(node__code=node)
    if category:
        qs = qs.filter(category1=category)
    if provider_side:
        qs = qs.filter(provider_side=provider_side)
    return search(qs, q)


def categories(user) -> list[str]:
    return sorted(set(items(user).exclude(category1="").values_list("category1", flat=True).order_by()))


def may_edit_guide(user, item) -> bool:
    """Administrators, dispatchers (the center keeps the catalog) and the staff of a responsible unit of the item."""
    from qifu.accounts.models import Role

    if scopes.is_admin(user):
        return True
    if not is_staff(user) or item.region_id != scopes.home_region_id(user):
        return False
    if user.has_role(Role.DISPATCHER):
        return True
    return bool(user.department_id) and item.units.filter(pk=user.department_id).exists()


def guide_of(item):
    """The item's guide, or None."""
    from .models import ServiceGuide

    try:
        return item.guide
    except ServiceGuide.DoesNotExist:
        return None


def guide_data(guide) -> dict | None:
    """The guide as the API shows it (the 11 core elements, materials in order, notes)."""
    if guide is None:
        return None
    return {
        "handling_unit": guide.handling_unit, "target": guide.target, "conditions": guide.conditions,
        "materials": [{"name": m.name, "requirements": m.requirements, "copies": m.copies, "source": m.source,
                       "mandatory": m.mandatory} for m in guide.materials.all()],
        "process": guide.process, "time_limit": guide.time_limit, "time_limit_days": guide.time_limit_days,
        "legal_basis": guide.legal_basis, "fees": guide.fees, "online_channel": guide.online_channel,
        "offline_channel": guide.offline_channel, "enquiry_phone": guide.enquiry_phone, "faq": guide.faq,
        "notes": guide.notes, "updated_at": guide.updated_at.isoformat(),
    }


def may_import(user) -> bool:
    """Administrators and dispatchers (the center keeps the catalog)."""
    from qifu.accounts.models import Role

    return scopes.is_admin(user) or (is_staff(user) and user.has_role(Role.DISPATCHER))

"""The shell every page shares: navigation by role and banners."""


from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qifu.accounts import scopes
from qifu.accounts.models import Role

# (label, url name, roles that see it; None = every signed-in user)
NAV = [
    (_("Home"), "home", None),
    (_("My enterprise"), "my_enterprise", {Role.ENTERPRISE}),
    (_("Enterprises"), "enterprise_list", set(scopes.STAFF_ROLES)),
    (_("Appeals"), "appeal_list", set(scopes.STAFF_ROLES)),
    (_("My appeals"), "appeal_list", {Role.ENTERPRISE}),
    (_("Register appeal"), "appeal_new", {Role.FRONT_DESK, Role.DISPATCHER, Role.LIAISON, Role.SPECIALIST,
                                          Role.CHIEF_SPECIALIST}),
    (_("Front desk"), "desk_visits", {Role.FRONT_DESK, Role.DISPATCHER}),
    (_("Policies"), "policy_list", None),
    (_("My policies"), "my_policies", {Role.ENTERPRISE}),
    (_("Appeal statistics"), "appeal_stats_page", {Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER, Role.HANDLER}),
    (_("Monthly ranking"), "ranking_page", {Role.LEADER, Role.SUPERVISOR, Role.HANDLER}),
    (_("Supervision desk"), "supervision_desk", {Role.SUPERVISOR}),
    (_("Coordination meetings"), "ladder_meetings", {Role.LEADER, Role.SUPERVISOR}),
    (_("Fallback cases"), "fallback_list", {Role.FRONT_DESK, Role.DISPATCHER, Role.HANDLER, Role.SUPERVISOR,
                                            Role.LEADER}),
    (_("Revisits"), "revisit_list", {Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST, Role.CHIEF_SPECIALIST}),
    (_("Rating statistics"), "rating_page", {Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER, Role.HANDLER,
                                             Role.FRONT_DESK, Role.SPECIALIST, Role.CHIEF_SPECIALIST}),
    (_("Service catalog"), "catalog_list", None),
    (_("One-thing scenarios"), "scenario_list", None),
    (_("Search"), "search_page", None),
    (_("Knowledge base"), "knowledge_home", set(scopes.STAFF_ROLES) | {Role.ENTERPRISE}),
    (_("Appointments"), "booking_home", {Role.ENTERPRISE, Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST,
                                         Role.CHIEF_SPECIALIST}),
    (_("Appointment desk"), "booking_desk", {Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST, Role.CHIEF_SPECIALIST,
                                             Role.SUPERVISOR, Role.LEADER}),
    (_("Queue numbers"), "queue_index", {Role.FRONT_DESK, Role.DISPATCHER, Role.SPECIALIST, Role.CHIEF_SPECIALIST}),
    (_("Tag library"), "tag_list", set(scopes.STAFF_ROLES)),
    (_("Organization"), "org_directory", None),
    (_("Inbox"), "inbox", None),
]


def nav_items(user) -> list[dict]:
    items = []
    for label, name, roles in NAV:
        own = name in ("my_enterprise", "my_policies")  # pages about the user's own enterprise
        if roles is None or user.has_role(*roles) or (scopes.is_admin(user) and not own):
            if own and not user.enterprise_id:
                continue
            if any(item["url"] == reverse(name) for item in items):  # one entry per page (e.g. My appeals)
                continue
            items.append({"label": label, "url": reverse(name)})
    meetings = reverse("ladder_meetings")
    if not any(item["url"] == meetings for item in items) and user.roles & scopes.STAFF_ROLES:
        from qifu.org.models import BodyMembership  # members of a ladder body in another role (e.g. a handler)

        if BodyMembership.objects.filter(user=user, body__escalation_level__isnull=False).exists():
            items.insert(len(items) - 2, {"label": _("Coordination meetings"), "url": meetings})
    desk = reverse("supervision_desk")
    if not any(item["url"] == desk for item in items) and user.roles & scopes.STAFF_ROLES:
        from qifu.supervision.views import may_use_desk  # task-force members in another role (e.g. a handler)

        if may_use_desk(user):
            items.insert(len(items) - 2, {"label": _("Supervision desk"), "url": desk})
    if scopes.is_admin(user):
        items.append({"label": _("Audit trail"), "url": reverse("admin:audit_auditentry_changelist")})
        items.append({"label": _("Administration"), "url": reverse("admin:index")})
    return items


def calendar_banner(user) -> list[int]:
    """Years (this one, and next from November on) whose working-day calendar is missing."""
    if not scopes.is_admin(user):
        return []
    from qifu.workcal import workdays

    today = timezone.localdate()
    years = {today.year}
    if today.month >= 11:
        years.add(today.year + 1)
    return sorted(set(workdays.missing_years(sorted(years))) | workdays.fallback_years())


def shell_context(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "calendar_missing_years": []}
    from qifu.notify.views import unread_count

    items, unread = nav_items(user), unread_count(user)
    inbox_url = reverse("inbox")
    for item in items:
        if item["url"] == inbox_url:
            item["badge"] = unread
    return {"nav_items": items, "calendar_missing_years": calendar_banner(user), "inbox_unread": unread}



"""Who sees and who maintains policies, matches, payouts and applications.

- The library: administrators see every region's; staff see their region's (drafts included, read-only
  unless they maintain the policy); enterprise users see their region's published policies only.
- Maintaining a policy (editing, publishing, confirming 免申即享 lists, reviewing applications, recording
  payments): administrators; handlers of the issuing department (谁制定、谁梳理、谁解释、谁更新); specialists
  and chief specialists of the region's policy section(s) (板块 of kind "policy").
- Matches, payouts and applications follow the enterprise scopes: an enterprise sees only its own.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from qifu.accounts import scopes
from qifu.accounts.models import Role
from qifu.org.models import Region, Section

from .models import Application, EnterpriseMatches, Payout, Policy, PolicyClause, PolicyStatus

POLICY_SECTION_KIND = "policy"


enterprise_only = scopes.enterprise_only


def policies(user) -> QuerySet[Policy]:
    qs = Policy.objects.select_related("region", "department")
    if scopes.is_admin(user):
        return qs
    regions = scopes.regions(user)
    qs = qs.filter(region__in=regions)
    if enterprise_only(user):
        qs = qs.filter(status=PolicyStatus.PUBLISHED)
    return qs


def clauses(user) -> QuerySet[PolicyClause]:
    return PolicyClause.objects.filter(policy__in=policies(user)).select_related("policy", "policy__region")


def is_policy_section_staff(user, region_id) -> bool:
    if not user.has_role(Role.SPECIALIST, Role.CHIEF_SPECIALIST):
        return False
    return Section.objects.filter(region_id=region_id, kind=POLICY_SECTION_KIND).filter(
        Q(chief_specialist=user) | Q(specialists=user)).exists()


def may_maintain(user, policy: Policy) -> bool:
    """Edit, publish, confirm lists, review applications and record payments for `policy`."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if scopes.is_admin(user):
        return True
    if scopes.home_region_id(user) != policy.region_id:
        return False
    if user.has_role(Role.HANDLER) and user.department_id and user.department_id == policy.department_id:
        return True
    return is_policy_section_staff(user, policy.region_id)


def may_create(user, region: Region | None) -> bool:
    if region is None or not (user and user.is_authenticated):
        return False
    if scopes.is_admin(user):
        return True
    if scopes.home_region_id(user) != region.pk:
        return False
    return bool(user.has_role(Role.HANDLER) and user.department_id) or is_policy_section_staff(user, region.pk)


def may_import(user, region: Region, department_codes: set[str]) -> bool:
    """Administrators and policy-section staff import anything for their region; a handler only policies
    issued by their own department."""
    if scopes.is_admin(user):
        return True
    if region is None or scopes.home_region_id(user) != region.pk:
        return False
    if is_policy_section_staff(user, region.pk):
        return True
    if user.has_role(Role.HANDLER) and user.department_id:
        return department_codes <= {user.department.code}
    return False


def maintained_policies(user) -> QuerySet[Policy]:
    """The policies `user` maintains (for the review queues)."""
    qs = Policy.objects.all()
    if scopes.is_admin(user):
        return qs
    region_id = scopes.home_region_id(user)
    if region_id is None:
        return qs.none()
    qs = qs.filter(region_id=region_id)
    if is_policy_section_staff(user, region_id):
        return qs
    if user.has_role(Role.HANDLER) and user.department_id:
        return qs.filter(department_id=user.department_id)
    return qs.none()


def matches(user) -> QuerySet[EnterpriseMatches]:
    """The match rows (one per enterprise, `qifu.policies.matches` reads them) of the enterprises `user` may see."""
    return EnterpriseMatches.objects.filter(enterprise__in=scopes.enterprises(user))


def payouts(user) -> QuerySet[Payout]:
    return Payout.objects.filter(enterprise__in=scopes.enterprises(user)).select_related(
        "clause", "clause__policy", "enterprise")


def applications(user) -> QuerySet[Application]:
    """Applications carry business material: an enterprise sees its own, the reviewers their policies',
    supervisors and leaders those of the enterprises they oversee."""
    qs = Application.objects.select_related("clause", "clause__policy", "clause__policy__region", "enterprise")
    if scopes.is_admin(user):
        return qs
    if not (user and user.is_authenticated and user.is_active and user.roles):
        return qs.none()
    if enterprise_only(user):
        return qs.filter(enterprise_id=user.enterprise_id) if user.enterprise_id else qs.none()
    visible = Q(clause__policy__in=maintained_policies(user))
    if user.has_role(Role.SUPERVISOR, Role.LEADER):
        visible |= Q(enterprise__in=scopes.enterprises(user))
    if user.enterprise_id and user.has_role(Role.ENTERPRISE):
        visible |= Q(enterprise_id=user.enterprise_id)
    return qs.filter(visible)


def regions_for_library(user) -> QuerySet[Region]:
    return scopes.regions(user)

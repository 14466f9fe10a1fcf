"""Re-match an enterprise when its registry data (industry, size, tags, …) changes.

The re-match runs after the transaction that changed the data commits (`transaction.on_commit`): the
save never waits for it, and a rolled-back change is never matched. Matching must never stop the
registry from saving an enterprise: a clause that cannot be evaluated is logged, and the next
`qifu policy match` run catches up."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save

from qifu.enterprises.models import Enterprise
from qifu.profiles.facts import facts_changed
from qifu.rules.values import RuleError

from .services import rematch_enterprise, rematch_enterprises

logger = logging.getLogger("qifu.policies")


def _rematch_now(enterprise_id: int) -> None:
    try:
        enterprise = Enterprise.objects.select_related("region").filter(pk=enterprise_id).first()
        if enterprise is not None:
            rematch_enterprise(enterprise)
    except (RuleError, ValidationError):
        logger.exception("could not re-match enterprise %s", enterprise_id)


def _rematch(enterprise) -> None:
    transaction.on_commit(lambda pk=enterprise.pk: _rematch_now(pk))


def _enterprise_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _rematch(instance)


def _tags_changed(sender, instance, action, reverse, pk_set=None, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # tag.enterprises.add(…): the enterprises named
        for enterprise in Enterprise.objects.filter(pk__in=pk_set or []):
            _rematch(enterprise)
    else:
        _rematch(instance)


def _rematch_many(enterprise_ids) -> None:
    try:
        rematch_enterprises(enterprise_ids)
    except (RuleError, ValidationError):
        logger.exception("could not re-match %d enterprises", len(enterprise_ids))


def _facts_changed(sender, enterprise_ids, **kwargs):
    transaction.on_commit(lambda ids=list(enterprise_ids): _rematch_many(ids))


def connect() -> None:
    facts_changed.connect(_facts_changed, dispatch_uid="qifu-policies-facts-changed")
    post_save.connect(_enterprise_saved, sender=Enterprise, dispatch_uid="qifu-policies-enterprise-saved")
    m2m_changed.connect(_tags_changed, sender=Enterprise.tags.through, dispatch_uid="qifu-policies-tags-changed")

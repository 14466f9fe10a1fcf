"""A single indicator value saved on its own (the admin) re-applies the tag rules of its enterprise after
the commit. Imports and pushes write in bulk and apply the rules themselves; deletions are left to the
periodic job (tasks.py), so cascades (an enterprise or indicator deleted) stay cheap."""

from django.db import transaction
from django.db.models.signals import post_save

from qifu.enterprises.models import Enterprise

from .facts import facts_changed
from .models import IndicatorValue
from .services import apply_tag_rules


def _reapply(sender, instance, raw=False, **kwargs):
    if raw:
        return
    enterprise_id = instance.enterprise_id

    def apply() -> None:
        apply_tag_rules(Enterprise.objects.filter(pk=enterprise_id), announce=False)
        facts_changed.send(sender=sender, enterprise_ids=[enterprise_id])

    transaction.on_commit(apply)


def connect() -> None:
    post_save.connect(_reapply, sender=IndicatorValue, dispatch_uid="qifu-profiles-reapply")

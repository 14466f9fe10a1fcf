"""Re-match an enterprise when its registry data (industry, size, tags, …) changes."""

from django.db.models.signals import m2m_changed, post_save

from qifu.enterprises.models import Enterprise


def _enterprise_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from .services import rematch_enterprise

    rematch_enterprise(instance)


def _tags_changed(sender, instance, action, reverse, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from .services import rematch_enterprise

    if reverse:  # tag.enterprises.add(…): every enterprise of the tag may have changed
        for enterprise in instance.enterprises.all():
            rematch_enterprise(enterprise)
    else:
        rematch_enterprise(instance)


def connect() -> None:
    post_save.connect(_enterprise_saved, sender=Enterprise, dispatch_uid="qifu-policies-enterprise-saved")
    m2m_changed.connect(_tags_changed, sender=Enterprise.tags.through, dispatch_uid="qifu-policies-tags-changed")

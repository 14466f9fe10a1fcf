"""Record every create, change, delete and state transition.

Models are registered once (`track(Model)`), and their saves and deletes are recorded through
signals. Code that changes state in bulk or moves an object through a state machine calls
`record()` itself.
"""

import datetime
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from .context import current_actor
from .models import AuditEntry

_tracked: dict[type, set[str]] = {}


def _jsonable(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj, exclude: set[str] | None = None) -> dict:
    """The concrete field values of `obj` as JSON-able data (foreign keys as ids)."""
    exclude = exclude if exclude is not None else _tracked.get(type(obj), set())
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or getattr(field, "auto_now", False):
            continue  # excluded, or a timestamp that changes on every save
        value = getattr(obj, field.attname)
        if isinstance(field, models.FileField):
            value = value.name if value else ""  # the stored file's path, not the file
        data[field.attname] = _jsonable(value)
    return data


def record(action: str, obj, before=None, after=None, note: str = "", actor=None) -> AuditEntry:
    entry = build(action, obj, before, after, note, actor)
    entry.save()
    return entry


def build(action: str, obj, before=None, after=None, note: str = "", actor=None) -> AuditEntry:
    """An unsaved entry, for bulk_create by callers that write many objects at once."""
    current = current_actor()
    user = actor if actor is not None else current.user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AuditEntry(
        actor=user,
        actor_username=getattr(user, "username", "") if user else "",
        source=current.source,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        before=before,
        after=after,
        note=note,
    )


def _pre_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None or instance._state.adding:
        instance._audit_before = None
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(old) if old is not None else None


def _post_save(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    after = snapshot(instance)
    before = getattr(instance, "_audit_before", None)
    if created or before is None:
        record(AuditEntry.Action.CREATE, instance, None, after)
    elif before != after:
        record(AuditEntry.Action.UPDATE, instance, before, after)
    instance._audit_before = after


def _post_delete(sender, instance, **kwargs):
    record(AuditEntry.Action.DELETE, instance, snapshot(instance), None)


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if reverse or action not in ("pre_add", "pre_remove", "pre_clear", "post_add", "post_remove", "post_clear"):
        return
    field = next(
        (f.name for f in instance._meta.many_to_many if f.remote_field.through is sender), None
    )
    if field is None:
        return
    if action.startswith("pre_"):
        instance.__dict__.setdefault("_audit_m2m", {})[field] = sorted(
            str(pk) for pk in getattr(instance, field).values_list("pk", flat=True)
        )
        return
    before = instance.__dict__.get("_audit_m2m", {}).pop(field, [])
    after = sorted(str(pk) for pk in getattr(instance, field).values_list("pk", flat=True))
    if before != after:
        record(AuditEntry.Action.UPDATE, instance, {field: before}, {field: after})


def track(model: type[models.Model], exclude: tuple[str, ...] = ()) -> type[models.Model]:
    """Audit every save and delete of `model` (usable as a class decorator)."""
    _tracked[model] = set(exclude)
    uid = f"qifu-audit-{model._meta.label}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + "-pre")
    post_save.connect(_post_save, sender=model, dispatch_uid=uid + "-post")
    post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + "-del")
    for m2m in model._meta.local_many_to_many:
        m2m_changed.connect(_m2m_changed, sender=m2m.remote_field.through, dispatch_uid=f"{uid}-{m2m.name}")
    return model


def is_tracked(model) -> bool:
    return model in _tracked

"""Gap-free numbering (appeal numbers, slip numbers): one row per counter, taken under a row lock."""

from django.db import IntegrityError, transaction


def take_next(model, **key) -> int:
    """Increment and return the counter row of `model` identified by `key` (its field `last`), creating it at 0
    first; two callers at once get consecutive numbers."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                model.objects.get_or_create(**key)
        except IntegrityError:  # created by a concurrent caller
            pass
        counter = model.objects.select_for_update().get(**key)
        counter.last += 1
        counter.save(update_fields=["last"])
    return counter.last

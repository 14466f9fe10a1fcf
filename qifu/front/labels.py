"""Labels Chinese users read in the admin that Django would otherwise show in English.

- A model field declared without a verbose name gets Django's automatic one (`region`, `created by`):
  `translate_field_names()` (run once at start-up) makes it a translatable string, so the admin shows
  区域 and 创建人. The declared value (`_verbose_name`) is untouched, so no migration follows.
- Permissions are stored with English names ("Can add policy"): `permission_label()` names them from
  their content type and codename in the user's language, for the admin's permission pickers.
- `DJANGO_STRINGS` are messages of Django itself that its Chinese catalog lacks; listing them here keeps
  them in ours (`make messages` collects them).
"""

from django.utils.translation import gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

DJANGO_STRINGS = [
    gettext_noop("- Select an option -"),  # the blank choice of a select (Django ≥ 6.0)
    gettext_noop("Filter by %(field_name)s"),  # the admin's date hierarchy (Django ≥ 6.0)
]

# Models declared without a verbose name
MODEL_NAMES = [gettext_noop("appeal number"), gettext_noop("appeal numbers")]

# The automatic verbose names of our fields (makemessages does not see them); `translate_field_names`
# checks that the list is complete.
FIELD_NAMES = [
    gettext_noop("appeal"),
    gettext_noop("application"),
    gettext_noop("clause"),
    gettext_noop("content type"),
    gettext_noop("created by"),
    gettext_noop("data"),
    gettext_noop("day"),
    gettext_noop("enterprise"),
    gettext_noop("idempotency key"),
    gettext_noop("key hash"),
    gettext_noop("last"),
    gettext_noop("last finished at"),
    gettext_noop("last started at"),
    gettext_noop("lead department"),
    gettext_noop("locked until"),
    gettext_noop("name"),
    gettext_noop("path"),
    gettext_noop("rated by"),
    gettext_noop("region"),
    gettext_noop("seq"),
    gettext_noop("uploaded by"),
    gettext_noop("user"),
]


def _ours(model) -> bool:
    return model.__module__.startswith("qifu.")


def translate_field_names() -> None:
    from django.apps import apps

    for model in apps.get_models():
        if not _ours(model):
            continue
        if "verbose_name" not in model._meta.original_attrs:  # e.g. AppealNumber → "appeal number"
            model._meta.verbose_name = gettext_lazy(model._meta.verbose_name)
            model._meta.verbose_name_plural = gettext_lazy(str(model._meta.verbose_name_plural))
        for field in model._meta.get_fields():
            if getattr(field, "_verbose_name", "") is None and isinstance(getattr(field, "verbose_name", None), str):
                field.verbose_name = gettext_lazy(field.verbose_name)


def automatic_field_names() -> set[str]:
    """The automatic verbose names in use (for the test that FIELD_NAMES lists them all)."""
    from django.apps import apps

    return {str(field.name.replace("_", " ")) for model in apps.get_models() if _ours(model)
            for field in model._meta.get_fields()
            if getattr(field, "_verbose_name", "") is None and hasattr(field, "verbose_name")}


ACTIONS = {"add": gettext_noop("add"), "change": gettext_noop("change"), "delete": gettext_noop("delete"),
           "view": gettext_noop("view")}


def permission_label(permission) -> str:
    """“政策计算器 | 政策 | 可添加” rather than “政策计算器 | 政策 | Can add policy”."""
    model = permission.content_type.model_class()
    action, _sep, _rest = permission.codename.partition("_")
    if model is None or action not in ACTIONS or permission.codename != f"{action}_{model._meta.model_name}":
        return str(permission)
    may = _("may %(action)s") % {"action": _(ACTIONS[action])}
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | {may}"

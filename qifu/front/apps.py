from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrontConfig(AppConfig):
    name = "qifu.front"
    verbose_name = _("Pages")

    def ready(self):
        from .labels import translate_field_names

        translate_field_names()

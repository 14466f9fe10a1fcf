from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "qifu.bookings"
    verbose_name = _("Appointments and queue numbers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from qifu.audit.trail import track

        from . import models, timers  # noqa: F401  (timers registers the bookings' reminder and no-show timers)

        for model in (models.SlotPlan, models.Slot, models.Booking, models.QueueTicket):
            track(model)

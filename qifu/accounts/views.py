from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from .forms import PasswordChangeForm


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (also where a required change of an initial password happens)."""

    form_class = PasswordChangeForm
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)  # saves and keeps this session signed in
        messages.success(self.request, _("Your password has been changed."))
        return response

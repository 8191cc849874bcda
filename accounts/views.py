from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from .lockout import LockoutPasswordChangeForm


class PasswordChangeView(auth_views.PasswordChangeView):
    """The current password under the sign-in lockout (it would otherwise be a way to guess it)."""

    form_class = LockoutPasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("password-changed")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

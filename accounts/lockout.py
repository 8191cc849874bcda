"""Sign-in protection against guessing: after repeated failures a user name is locked for
that address, and an address that fails for many names is locked altogether. The
address is the one the server (or a trusted proxy) saw, never a header the client wrote."""

import datetime as dt

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import LoginFailure

WINDOW = dt.timedelta(minutes=15)
FAILURES_PER_USER_AND_ADDRESS = 5
FAILURES_PER_ADDRESS = 30


def client_address(request) -> str:
    """REMOTE_ADDR; behind N trusted proxies (TRUSTED_PROXY_COUNT), the address the
    outermost of them saw: the N-th entry from the right of X-Forwarded-For, which a
    client cannot forge because the proxies append to it."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def is_locked(username: str, address: str) -> bool:
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - WINDOW, address=address)
    return (
        recent.filter(username=username.lower()).count() >= FAILURES_PER_USER_AND_ADDRESS
        or recent.count() >= FAILURES_PER_ADDRESS
    )


def record_failure(username: str, address: str) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    LoginFailure.objects.create(username=username.lower(), address=address)


def clear(username: str, address: str) -> None:
    LoginFailure.objects.filter(username=username.lower(), address=address).delete()


class LockoutMixin:
    locked_message = _("Too many failed sign-ins. Wait 15 minutes, or ask your manager to reset your password.")

    def clean(self):
        username = self.data.get("username", "")
        address = client_address(self.request)
        if is_locked(username, address):
            raise ValidationError(self.locked_message, code="locked")
        try:
            data = super().clean()
        except ValidationError:
            record_failure(username, address)
            raise
        clear(username, address)
        return data


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    pass

"""Sign-in protection against guessing. Failures are counted by the name as the sign-in
form reads it (surrounding space stripped, NFKC, case folded: "lan ", " Lan" and a
full-width "ｌａｎ" are one name) over a WINDOW, three ways:
- a name from one address: after FAILURES_PER_USER_AND_ADDRESS that pair waits;
- a name from any addresses: after FAILURES_PER_ACCOUNT the account waits (a guesser
  spread over many addresses);
- an address for any names: after FAILURES_PER_ADDRESS the address waits.
The refusal says which and until when. Whoever may manage the account unlocks it in the
admin (Users → "Unlock sign-in"). The address is the one the server (or a trusted proxy)
saw, never a header the client wrote."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .models import LoginFailure, username_key

WINDOW = dt.timedelta(minutes=15)
FAILURES_PER_USER_AND_ADDRESS = 5
FAILURES_PER_ACCOUNT = 20
FAILURES_PER_ADDRESS = 30


def lockout_name(username) -> str:
    """The name as the sign-in form reads it (its UsernameField), case folded."""
    return username_key(UsernameField().to_python(username))[: LoginFailure._meta.get_field("username").max_length]


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


@dataclass(frozen=True)
class Lock:
    kind: str  # "name and address", "account" or "address"
    until: dt.datetime

    @property
    def message(self) -> str:
        until = formats.time_format(timezone.localtime(self.until))
        if self.kind == "account":
            return _(
                "This account is locked after too many failed sign-ins. Try again after %(time)s, or ask your "
                "manager or an administrator to unlock it."
            ) % {"time": until}
        if self.kind == "address":
            return _("Too many failed sign-ins from this address. Try again after %(time)s.") % {"time": until}
        return _(
            "Too many failed sign-ins with this name from this address. Try again after %(time)s, or ask your "
            "manager or an administrator to unlock the account."
        ) % {"time": until}


def _recent():
    return LoginFailure.objects.filter(at__gte=timezone.now() - WINDOW)


def _reached(kind: str, failures, limit: int) -> Lock | None:
    """A lock once `failures` reach `limit`: it lasts until the oldest of them leaves the window."""
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    return Lock(kind, times[-1] + WINDOW) if len(times) >= limit else None


def lock_of(name: str, address: str, *, per_account: bool = True) -> Lock | None:
    """The lock on this (normalised) name from this address, if any. per_account=False
    for a name that is no account (pairing attempts), which nobody may lock for all."""
    recent = _recent()
    checks = [
        ("name and address", recent.filter(username=name, address=address), FAILURES_PER_USER_AND_ADDRESS),
        ("account", recent.filter(username=name), FAILURES_PER_ACCOUNT),
        ("address", recent.filter(address=address), FAILURES_PER_ADDRESS),
    ]
    for kind, failures, limit in checks if per_account else [checks[0], checks[2]]:
        lock = _reached(kind, failures, limit)
        if lock is not None:
            return lock
    return None


def account_lock(username: str) -> Lock | None:
    """The account's own lock (for the user list), whatever the address."""
    return _reached("account", _recent().filter(username=lockout_name(username)), FAILURES_PER_ACCOUNT)


def record_failure(name: str, address: str) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    LoginFailure.objects.create(username=name, address=address)


def clear(name: str, address: str) -> None:
    LoginFailure.objects.filter(username=name, address=address).delete()


def unlock(username: str) -> int:
    """Forget every recent failure of this name, from every address; returns how many."""
    deleted, _kinds = LoginFailure.objects.filter(username=lockout_name(username)).delete()
    return deleted


class LockoutMixin:
    def clean(self):
        name = lockout_name(self.data.get("username", ""))
        address = client_address(self.request)
        lock = lock_of(name, address)
        if lock is not None:
            raise ValidationError(lock.message, code="locked")
        try:
            data = super().clean()
        except ValidationError:
            record_failure(name, address)
            raise
        clear(name, address)
        return data


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    pass

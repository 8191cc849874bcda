"""Sign-in protection against guessing. Failures are counted by the name as the sign-in
form reads it (surrounding space stripped, NFKC, case folded: "lan ", " Lan" and a
full-width "ｌａｎ" are one name) over a WINDOW, three ways:
- a name from one address: after FAILURES_PER_USER_AND_ADDRESS that pair waits;
- a name from any addresses: after FAILURES_PER_ACCOUNT the account waits (a guesser
  spread over many addresses);
- an address for any names: after FAILURES_PER_ADDRESS the address waits.
The refusal says which and until when. Whoever may manage the account unlocks it in the
admin (Users → "Unlock sign-in"). The address is the one the server (or a trusted proxy)
saw, never a header the client wrote; an IPv6 address counts as its /64, one subscriber's.

An attempt is counted before its password is checked (begin), under transaction-wide
advisory locks on its name and its address, and forgotten only if it succeeds
(succeeded): requests sent at once cannot all read "not locked" and then all be checked.
Every form that checks a password counts this way: sign-in, the admin's sign-in, the
current password of the password change, and pairing codes (per address)."""

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UsernameField
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import LoginFailure, username_key
from .scope import mark_password_set, password_still_usable

WINDOW = dt.timedelta(minutes=15)
FAILURES_PER_USER_AND_ADDRESS = 5
FAILURES_PER_ACCOUNT = 20
FAILURES_PER_ADDRESS = 30


def lockout_name(username) -> str:
    """The key a name's failures are counted under: the name as the sign-in form reads it
    (its UsernameField), case folded, as its SHA-256. The whole name, however long case
    folding makes it: cut to a column's width, two long names sharing their start shared a
    lockout (pentest I5); and whatever is posted takes 64 characters."""
    return hashlib.sha256(username_key(UsernameField().to_python(username)).encode()).hexdigest()


def client_address(request) -> str:
    """REMOTE_ADDR; behind N trusted proxies (TRUSTED_PROXY_COUNT), the address the
    outermost of them saw: the N-th entry from the right of X-Forwarded-For, which a
    client cannot forge because the proxies append to it."""
    count = settings.TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR", "")
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            address = hops[-count]
    return counted_address(address)


def counted_address(address: str) -> str:
    """The address failures are counted under: an IPv6 address's /64 network, since one
    subscriber is given a whole /64 and would otherwise have a fresh count at each of its
    addresses; an IPv4 address (or an IPv4-mapped IPv6 one) as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


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
        ("name and address", recent.filter(name_digest=name, address=address), FAILURES_PER_USER_AND_ADDRESS),
        ("account", recent.filter(name_digest=name), FAILURES_PER_ACCOUNT),
        ("address", recent.filter(address=address), FAILURES_PER_ADDRESS),
    ]
    for kind, failures, limit in checks if per_account else [checks[0], checks[2]]:
        lock = _reached(kind, failures, limit)
        if lock is not None:
            return lock
    return None


def account_lock(username: str) -> Lock | None:
    """The account's own lock (for the user list), whatever the address."""
    return _reached("account", _recent().filter(name_digest=lockout_name(username)), FAILURES_PER_ACCOUNT)


class Locked(Exception):
    def __init__(self, lock: Lock):
        super().__init__(lock.kind)
        self.lock = lock


def _advisory_key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


@transaction.atomic
def begin(name: str, address: str, *, per_account: bool = True) -> LoginFailure:
    """Count an attempt of this (normalised) name from this address before its password is
    checked; raises Locked when a limit is reached. The attempt stays a failure unless
    `succeeded` forgets it. The name's and the address's locks (taken in one order, so two
    attempts never wait on each other) serialise the count and the insert of every attempt
    that one of the limits counts; they are held for milliseconds, not the password check."""
    with connection.cursor() as cursor:
        for key in sorted({_advisory_key(f"lockout name:{name}"), _advisory_key(f"lockout address:{address}")}):
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    lock = lock_of(name, address, per_account=per_account)
    if lock is not None:
        raise Locked(lock)
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    return LoginFailure.objects.create(name_digest=name, address=address)


def succeeded(attempt: LoginFailure) -> None:
    """The attempt's password was right: forget it and the failures of its name from its address."""
    LoginFailure.objects.filter(name_digest=attempt.name_digest, address=attempt.address).delete()


def not_a_guess(attempt: LoginFailure) -> None:
    """Nothing was checked (no password given): forget the attempt, not the failures before it."""
    LoginFailure.objects.filter(pk=attempt.pk).delete()


def unlock(username: str) -> int:
    """Forget every recent failure of this name, from every address; returns how many."""
    deleted, _kinds = LoginFailure.objects.filter(name_digest=lockout_name(username)).delete()
    return deleted


def counted(check, name: str, address: str):
    """check() under the lockout: its ValidationError counts as a failure; a Locked
    becomes a ValidationError with the lock's message."""
    try:
        attempt = begin(name, address)
    except Locked as locked:
        raise ValidationError(locked.lock.message, code="locked") from None
    result = check()  # a ValidationError leaves the attempt counted
    return result, attempt


class LockoutMixin:
    def clean(self):
        data, attempt = counted(
            super().clean, lockout_name(self.data.get("username", "")), client_address(self.request)
        )
        # The form checks a password only when both fields came; an empty one is no guess
        # (and must not clear the failures before it, as a right password does).
        if self.get_user() is None:
            not_a_guess(attempt)
        else:
            succeeded(attempt)
        return data

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not password_still_usable(user):
            raise ValidationError(PASSWORD_SET_BY_OTHER, code="password_set_by_other")


# A password another person set, who may no longer manage its holder (scope.password_still_usable).
PASSWORD_SET_BY_OTHER = gettext_lazy(
    "This password was set by a manager who no longer manages your account: ask your manager or an administrator "
    "for a new one."
)


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    pass


class LockoutAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    pass


class LockoutPasswordChangeForm(PasswordChangeForm):
    """The current password is guessed as a sign-in's is: the same limits (pentest F11),
    counted under the account's name from the request's address."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old, attempt = counted(
            super().clean_old_password, lockout_name(self.user.get_username()), client_address(self.request)
        )
        succeeded(attempt)
        return old

    def save(self, commit=True):
        user = super().save(commit)
        if commit:
            mark_password_set(user, user)  # still known to whoever knew the old one
        return user

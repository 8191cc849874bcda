"""Pairing a tablet with a field worker. A manager who may manage the worker asks for a
pairing code in the admin (Device tokens → add); the page shows it as ABCD-EFGH and as a
QR code of <site>/survey/#pair=ABCD-EFGH. The tablet sends it once to
POST /api/v1/pair/ ({"code": ..., "device_name": ...}, no sign-in) and gets the
worker's device token; only the token's hash is kept. A code lasts CODE_MINUTES, is
spent by its first use, and wrong codes count as failed sign-ins of their address
(accounts/lockout.py)."""

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from common.text import clean_text

from .audit import act_as
from .models import PairingCode
from .scope import OutOfScope, can_manage_user, knowers_of_password
from .tokens import create_token

# No 0/O, 1/I/L: read off a screen and typed on a tablet without doubt.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
CODE_MINUTES = 15
# The tablets' app, which the pairing link opens: offered by the app that serves it
# (common.navigation.offer), as accounts names no page above it.
TABLET_APP = "accounts.tablet-app"
# The lockout's name for pairing attempts: failures count per address, as sign-ins do.
LOCKOUT_NAME = "#pairing"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def shown(code: str) -> str:
    """ABCDEFGH as people read it: ABCD-EFGH."""
    return f"{code[: LENGTH // 2]}-{code[LENGTH // 2 :]}"


def normalised(text) -> str:
    """What a person typed, as the code it means: case, spaces, dashes and full-width
    letters do not matter."""
    if not isinstance(text, str):
        return ""
    plain = unicodedata.normalize("NFKC", text).upper()
    return "".join(c for c in plain if c not in " -\t")


@transaction.atomic
def pairing_start(*, actor, user, name: str) -> tuple[PairingCode, str]:
    """A new code for pairing a tablet with `user`; returns it and the code, shown once."""
    act_as(actor)
    if not can_manage_user(actor, user) or not user.is_active:
        raise OutOfScope
    code = "".join(secrets.choice(ALPHABET) for _i in range(LENGTH))
    pairing = PairingCode.objects.create(
        code_hash=_hash(code),
        user=user,
        name=name.strip()[:100] or "?",
        created_by=actor,
        known_also_by=knowers_of_password(actor),
        expires_at=timezone.now() + dt.timedelta(minutes=CODE_MINUTES),
    )
    return pairing, code


@dataclass(frozen=True)
class Paired:
    key: str
    user: object
    name: str  # the token's name: the tablet's own, else the manager's


class PairingInvalid(Exception):
    """Wrong, expired or spent code (or one whose issuer may no longer manage the worker)."""


@transaction.atomic
def pairing_complete(*, code: str, device_name: str) -> Paired:
    """Spend the code: the worker's new device token, named by the tablet."""
    pairing = (
        PairingCode.objects.select_for_update(of=("self",))
        .select_related("user", "created_by")
        .filter(code_hash=_hash(normalised(code)), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if pairing is None or not pairing.user.is_active or not can_manage_user(pairing.created_by, pairing.user):
        raise PairingInvalid
    # The token is the act of the manager who showed the code.
    act_as(pairing.created_by)
    # The tablet's own name for itself is optional: one the stored text rule refuses gives
    # way to the name the manager chose, rather than failing the pairing.
    try:
        name = clean_text(device_name if isinstance(device_name, str) else "", "device_name", "device") or pairing.name
    except ValidationError:
        name = pairing.name
    # The code was shown to its creator, who could have spent it on their own machine: the
    # key is theirs to know as a GIS client's is (pentest 6), so it is bound the same way.
    token, key = create_token(
        user=pairing.user,
        name=name,
        created_by=pairing.created_by,
        seen_by=pairing.created_by,
        known_also_by=pairing.known_also_by,
    )
    pairing.used_at = timezone.now()
    pairing.token = token
    pairing.save(update_fields=["used_at", "token"])
    return Paired(key=key, user=pairing.user, name=token.name)

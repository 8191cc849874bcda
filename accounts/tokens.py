"""Device tokens for tablets: issued by a manager, listed, revoked; sent as
`Authorization: Token <key>`."""

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .audit import act_as
from .models import DeviceToken
from .scope import MANAGE, OutOfScope, scope_for

# Writing last_used_at on every request would turn every read into a write.
USE_RECORD_INTERVAL = dt.timedelta(minutes=5)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_issue(*, actor, user, name: str) -> tuple[DeviceToken, str]:
    """Returns the token and its key; the key is not stored and cannot be shown again."""
    act_as(actor)
    if not scope_for(actor).restrict_users(type(user).objects.filter(pk=user.pk), MANAGE).exists():
        raise OutOfScope
    key = secrets.token_urlsafe(32)
    token = DeviceToken.objects.create(
        user=user, name=name.strip() or "?", prefix=key[:8], key_hash=_hash(key), created_by=actor
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor, token: DeviceToken) -> DeviceToken:
    act_as(actor)
    if not scope_for(actor).restrict_users(type(token.user).objects.filter(pk=token.user_id), MANAGE).exists():
        raise OutOfScope
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


class DeviceTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        token = DeviceToken.objects.select_related("user").filter(key_hash=_hash(key)).first()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This device token is not valid or was revoked."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > USE_RECORD_INTERVAL:
            DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

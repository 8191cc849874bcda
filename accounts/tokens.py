"""Device tokens: issued by a manager for a tablet or a GIS client, listed, revoked. A
client shows one in whichever form it can send (DeviceTokenAuthentication): tablets
`Authorization: Token <key>`, scripts and MapLibre `Authorization: Bearer <key>`, and QGIS
3.22, which can send no header of its own, HTTP Basic with the user name and the key as
the password. An account's password is never taken over Basic: it would travel with every
request of a GIS client and sit in its project files.

A browser that was given the token at its Basic prompt keeps it for the site and sends it
with every later request there, a form another site posts included: CSRF with no cookie.
So a write signed with Basic is refused when the browser says another site's page sent it
(Sec-Fetch-Site, Origin). Token and Bearer are never sent on their own; QGIS, GDAL and
scripts send no such headers, and their reads are never refused."""

import base64
import datetime as dt
import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from .audit import act_as
from .models import DeviceToken
from .scope import OutOfScope, can_manage_user, knowers_of_password, still_managed_by

# Writing last_used_at on every request would turn every read into a write.
USE_RECORD_INTERVAL = dt.timedelta(minutes=5)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(*, user, name: str, created_by, seen_by=None, known_also_by=None) -> tuple[DeviceToken, str]:
    """A new token and its key (for the callers below, which check who may issue it);
    `seen_by`: who is shown the key besides its holder, and so whoever may have been
    signed in as them (scope.knowers_of_password, or `known_also_by` as they were when a
    pairing code was shown)."""
    key = secrets.token_urlsafe(32)
    shown_to = seen_by if seen_by is not None and seen_by.pk != user.pk else None
    token = DeviceToken.objects.create(
        user=user,
        name=name.strip()[:100] or "?",
        prefix=key[:8],
        key_hash=_hash(key),
        created_by=created_by,
        key_seen_by=shown_to,
        # Shown to its holder alone: still known to whoever knows the holder's password.
        key_known_also_by=(known_also_by if known_also_by is not None else knowers_of_password(shown_to or seen_by)),
    )
    return token, key


@transaction.atomic
def token_issue(*, actor, user, name: str) -> tuple[DeviceToken, str]:
    """Returns the token and its key; the key is not stored and cannot be shown again."""
    act_as(actor)
    if not can_manage_user(actor, user):
        raise OutOfScope
    return create_token(user=user, name=name, created_by=actor, seen_by=actor)


@transaction.atomic
def token_revoke(*, actor, token: DeviceToken) -> DeviceToken:
    act_as(actor)
    if not can_manage_user(actor, token.user):
        raise OutOfScope
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# Shown to clients in WWW-Authenticate; protocol text, not translated.
REALM = "Hazard registry"
SCHEMES = ("token", "bearer", "basic")


def _refused():
    return exceptions.AuthenticationFailed(
        _(
            "Sign in with your user name and a device token as the password (HTTP Basic), or send "
            "Authorization: Bearer <device token>. Your account password is not accepted here; "
            "your area manager issues device tokens (admin → Device tokens)."
        )
    )


def _presented(request) -> tuple[str | None, str] | None:
    """(user name or None, key) from the Authorization header; None when it holds another
    scheme (the map's tile token) or nothing."""
    scheme, _space, credentials = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme not in SCHEMES:
        return None
    if not credentials or " " in credentials:
        raise _refused()
    if scheme != "basic":
        return None, credentials
    try:
        raw = base64.b64decode(credentials, validate=True)
    except ValueError:  # binascii.Error, or a letter outside ASCII (a header arrives as Latin-1)
        raise _refused() from None
    try:
        decoded = raw.decode()
    except UnicodeDecodeError:  # a client that ignores charset="UTF-8" sends Latin-1
        decoded = raw.decode("latin-1")
    username, colon, key = decoded.partition(":")
    if not colon or not username or not key:
        raise _refused()
    return username, key


def _from_another_site(request) -> bool:
    """What a browser tells of the page that made the request: another site's (or a
    sandboxed page's, Origin "null"). A browser before 2020 sends neither Sec-Fetch-Site
    nor, on a form's POST, Origin: its Referer then tells (pentest I12). A client that is
    no browser sends none of them, and a request with no Referer at all stays allowed:
    GIS clients and tablets send none, and a page may be told to send none."""
    own = {f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS}
    fetched_from = request.META.get("HTTP_SEC_FETCH_SITE")
    if fetched_from is not None and fetched_from not in ("same-origin", "none"):
        return True
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin not in own
    referer = request.META.get("HTTP_REFERER")
    if fetched_from is not None or referer is None:
        return False
    try:
        page = urlsplit(referer)
    except ValueError:  # no address (an unclosed IPv6 bracket): not one of ours
        return True
    return f"{page.scheme}://{page.netloc}" not in own


def sent_by_another_site(request) -> bool:
    """Another site's page made the browser send this with credentials the browser adds
    by itself: the session cookie (a link followed: SameSite=Lax sends it) or a token it
    keeps for Basic. Token and Bearer come only from a program holding the key, which
    could send them from anywhere anyway."""
    scheme = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")[0].lower()
    return scheme not in ("token", "bearer") and _from_another_site(request)


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """A device token as Token, Bearer or Basic (user name and token). The one check of
    credentials for the API (DRF) and the plain views (signed_in_user: OGC API, tiles)."""

    def authenticate(self, request):
        presented = _presented(request)
        if presented is None:
            return None
        username, key = presented
        if username is not None and request.method not in permissions.SAFE_METHODS and _from_another_site(request):
            raise exceptions.PermissionDenied(
                _(
                    "A change signed with a device token over HTTP Basic is not accepted from a page of another "
                    "site. Programs send the token as Authorization: Token <key> or Bearer <key>."
                )
            )
        token = DeviceToken.objects.select_related("user", "key_seen_by").filter(key_hash=_hash(key)).first()
        if token is None or (username is not None and token.user.get_username() != username):
            raise _refused()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This device token is not valid or was revoked."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        # A key shown to a manager lets them act as its holder (scope.still_managed_by).
        if not still_managed_by(token.key_seen_by, token.user, token.key_known_also_by):
            raise exceptions.AuthenticationFailed(
                _(
                    "This device token was shown to a manager who no longer manages this account: ask for a new "
                    "key (admin → Device tokens)."
                )
            )
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > USE_RECORD_INTERVAL:
            DeviceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return challenge(request)


def challenge(request) -> str:
    """WWW-Authenticate for a 401. Basic, so that QGIS (and a browser opening the address)
    asks for the user name and token; but a page's own script (fetch, Sec-Fetch-Dest: empty)
    gets Bearer, for which Chromium does not put a sign-in dialog over the page."""
    if request.META.get("HTTP_SEC_FETCH_DEST") == "empty":
        return f'Bearer realm="{REALM}"'
    return f'Basic realm="{REALM}", charset="UTF-8"'


def signed_in_user(request):
    """The session's user, else the device token's holder. Raises NotAuthenticated (no
    credentials) or AuthenticationFailed (refused ones); their detail says what to do."""
    if request.user.is_authenticated:
        return request.user
    found = DeviceTokenAuthentication().authenticate(request)
    if found is None:
        raise exceptions.NotAuthenticated(_refused().detail)
    return found[0]

"""Short-lived signed tokens for the map's tile requests.

A map asks for dozens of tiles at each move; looking up the session and the user for
every one cost more than building the tile (bench/: 1.2 ms of lookups against 0.5-1 ms
of query at zoom 14). The map page gets a token signed with the site's secret that names
the user and carries the scope `scope_for` computed for them; a tile request showing it
is answered within that scope without either lookup. A token lasts
MAP_TILE_TOKEN_SECONDS and the page renews it well before then, so a user removed from
an area, deactivated or signed out stops receiving tiles at most that long after.
Tokens open tiles only: every other view still reads the session."""

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core import signing

from accounts.scope import Scope, scope_for

SALT = "mapping.tile-token"
SCHEME = "Tile"  # Authorization: Tile <token>
VERIFIED_KEPT = 1024

_verified: OrderedDict = OrderedDict()  # token: (holder, expiry in epoch seconds)
_lock = threading.Lock()


class TokenHolder:
    """Whoever shows a valid token, as far as a tile needs: signed in, with the scope
    computed for the user it was issued to (scope_for returns it as it would its own)."""

    is_authenticated = True
    is_active = True

    def __init__(self, user_id: str, scope: Scope):
        self.pk = user_id
        self._area_scope = scope


def presented(request) -> str | None:
    """The token a request shows (`Authorization: Tile <token>`), or None."""
    scheme, _space, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token if scheme == SCHEME else None


def issue(user) -> str:
    scope = scope_for(user)
    payload = {"u": str(user.pk), "e": scope.everything, "g": scope.grants}
    return signing.dumps(payload, salt=SALT, compress=True)


def holder(token: str) -> TokenHolder | None:
    """Who the token was issued to; None when it is forged, altered or expired. A token
    already verified is known until it expires: checking the signature cost a tenth of
    the request."""
    now = time.time()
    with _lock:
        known = _verified.get(token)
    if known is not None and now < known[1]:
        return known[0]
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.MAP_TILE_TOKEN_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return None
    issued = signing.b62_decode(token.rsplit(signing.Signer().sep, 2)[-2])
    grants = tuple((path, role) for path, role in payload["g"])
    found = TokenHolder(payload["u"], Scope(everything=payload["e"], grants=grants))
    with _lock:
        _verified[token] = (found, issued + settings.MAP_TILE_TOKEN_SECONDS)
        if len(_verified) > VERIFIED_KEPT:
            _verified.popitem(last=False)
    return found

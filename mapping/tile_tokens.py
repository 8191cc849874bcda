"""Short-lived signed tokens for the map's tile requests.

A map asks for dozens of tiles at each move; looking up the session and the user for
every one cost more than building the tile (bench/NOTES.md). The map page gets a token
signed with the site's secret that names the user, the scope `scope_for` computed for
them and a grant (mapping.TileGrant) bound to the page's session. A tile request showing
it is answered within that scope without either lookup; the tile's own statement checks
the grant (GRANT_IN_TILE, mapping/tiles.py): its session still alive and its person's
standing as it was made under, at the price of three index lookups in a query that runs
anyway. Sign-out and idle expiry end the session; deactivation, a password change, a
change of roles, the end of a password setter's reach and a move in the area tree change
the standing, counted by triggers on the accounts and the areas
(mapping/sql/tile_grants.sql) whatever writes the change, at its commit. So the map's
tiles stop at once (a tile read on a replica asks the primary in a query of its own:
sessions and grants are read where they are written). A token lasts
MAP_TILE_TOKEN_SECONDS and the page renews it well before then. Tokens open tiles only:
every other view still reads the session."""

import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from accounts.models import User
from accounts.scope import Scope, scope_for

SALT = "mapping.tile-token"
SCHEME = "Tile"  # Authorization: Tile <token>
VERIFIED_KEPT = 1024

_verified: OrderedDict = OrderedDict()  # token: (holder, expiry in epoch seconds)
_lock = threading.Lock()


# The sum of a person's standing and the area tree's (mapping.TileStanding), the person
# the SQL expression `who`.
def _standing(who: str) -> str:
    return f"(SELECT coalesce(sum(t.version), 0)::bigint FROM mapping_tilestanding t WHERE t.user_id IN (0, {who}))"  # noqa: S608


def _grant_valid(key: str, now: str) -> str:
    """SQL: the grant `key` still holds at `now`: its session alive, its person's standing
    the one it was made under."""
    return f"""EXISTS (
    SELECT 1 FROM mapping_tilegrant g
    JOIN django_session s ON s.session_key = g.session_key AND s.expire_date > {now}
    WHERE g.key = {key} AND g.standing = {_standing("g.user_id")})"""  # noqa: S608 (fixed expressions are formatted in)


# In a tile's own statement on the primary: the grant and the tile's clock are its
# parameters; a request without a token (no grant) had its session checked already.
GRANT_IN_TILE = f"(%(grant)s::text IS NULL OR {_grant_valid('%(grant)s::text', '%(now)s::timestamptz')})"
# On its own, where sessions and grants are written, for a tile read on a replica.
GRANT_HOLDS = f"SELECT {_grant_valid('%s', '%s')}"

# A session's grant keeps its key while its person's standing is the same (a renewal); a
# new standing, or a session signed in as someone else (Django gives a sign-in a new
# session key, so only in SQL), gets a new key, so the tokens made before stay ended.
GRANT = f"""
INSERT INTO mapping_tilegrant (key, session_key, user_id, standing, created_at)
VALUES (%(key)s, %(session)s, %(user)s, {_standing("%(user)s")}, %(now)s)
ON CONFLICT (session_key) DO UPDATE SET
    key = CASE WHEN (mapping_tilegrant.user_id, mapping_tilegrant.standing) = (EXCLUDED.user_id, EXCLUDED.standing)
               THEN mapping_tilegrant.key ELSE EXCLUDED.key END,
    user_id = EXCLUDED.user_id,
    standing = EXCLUDED.standing
RETURNING key, xmax = 0
"""  # noqa: S608 (a fixed expression is formatted in)
# Grants whose session is gone, dropped when a new session takes one. The application's
# clock, as the session's expiry date and each tile's check are read by it.
FORGET = """
DELETE FROM mapping_tilegrant g
WHERE NOT EXISTS (SELECT 1 FROM django_session s WHERE s.session_key = g.session_key AND s.expire_date > %s)
"""


class TokenHolder:
    """Whoever shows a valid token, as far as a tile needs: signed in, with the scope
    computed for the user it was issued to (scope_for returns it as it would its own)
    and the grant each tile's statement checks."""

    is_authenticated = True
    is_active = True

    def __init__(self, user_id: int, scope: Scope, grant: str):
        self.pk = user_id
        self._area_scope = scope
        self.tile_grant = grant


def presented(request) -> str | None:
    """The token a request shows (`Authorization: Tile <token>`), or None."""
    scheme, _space, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token if scheme == SCHEME else None


def grant(request) -> str:
    """The key of the grant of the request's session (made, or brought up to date)."""
    if request.session.session_key is None:
        request.session.save()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            GRANT,
            {
                "key": secrets.token_urlsafe(32),
                "session": request.session.session_key,
                "user": request.user.pk,
                "now": now,
            },
        )
        key, created = cursor.fetchone()
        if created:
            cursor.execute(FORGET, [now])
    return key


def grant_holds(key: str) -> bool:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(GRANT_HOLDS, [timezone.now(), key])
        return cursor.fetchone()[0]


def issue(request) -> str:
    """A token for the map of this signed-in request's session: its grant made, with the
    person's standing as it is, then their scope read again. A change committed in
    between, or still open, changes the standing and so ends the grant; the scope the
    request read at its start could be from before either."""
    key = grant(request)
    scope = scope_for(User.objects.get(pk=request.user.pk))
    payload = {"u": str(request.user.pk), "e": scope.everything, "g": scope.grants, "k": key}
    return signing.dumps(payload, salt=SALT, compress=True)


def holder(token: str) -> TokenHolder | None:
    """Who the token was issued to; None when it is forged, altered or expired. A token
    already verified is known until it expires: checking its signature on every tile was
    a large share of the request (bench/NOTES.md)."""
    now = time.time()
    with _lock:
        known = _verified.get(token)
    if known is not None and now < known[1]:
        return known[0]
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.MAP_TILE_TOKEN_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if "k" not in payload:  # made before tokens were bound to a session
        return None
    issued = signing.b62_decode(token.rsplit(signing.Signer().sep, 2)[-2])
    grants = tuple((path, role) for path, role in payload["g"])
    found = TokenHolder(int(payload["u"]), Scope(everything=payload["e"], grants=grants), payload["k"])
    with _lock:
        _verified[token] = (found, issued + settings.MAP_TILE_TOKEN_SECONDS)
        if len(_verified) > VERIFIED_KEPT:
            _verified.popitem(last=False)
    return found

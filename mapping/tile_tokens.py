"""Short-lived signed tokens for the map's tile requests.

A map asks for dozens of tiles at each move; looking up the session and the user for
every one cost more than building the tile (bench/NOTES.md). The map page gets a token
signed with the site's secret that names the user, the scope `scope_for` computed for
them and a grant (mapping.TileGrant) bound to the page's session. A tile request showing
it is answered within that scope without either lookup; the tile's own statement checks
the grant (GRANT_IN_TILE, mapping/tiles.py): the session still alive, the person still
active with the same password, superuser flag and memberships, and whoever set that
password as they were. So sign-out, idle expiry, deactivation, a password change, a
change of roles or the end of a password setter's reach end the map's tiles at once, at the
price of one indexed join in a query that runs anyway (a tile read on a replica asks the
primary in a query of its own: sessions and accounts are read where they are written). A
token lasts MAP_TILE_TOKEN_SECONDS and the page renews it well before then. Tokens open
tiles only: every other view still reads the session."""

import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from accounts.scope import Scope, scope_for

SALT = "mapping.tile-token"
SCHEME = "Tile"  # Authorization: Tile <token>
VERIFIED_KEPT = 1024

_verified: OrderedDict = OrderedDict()  # token: (holder, expiry in epoch seconds)
_lock = threading.Lock()


def _roles(who: str) -> str:
    """SQL: the memberships, as text, of the person whose id is the expression `who`."""
    roles = "coalesce(string_agg(m.area_id || ':' || m.role, ',' ORDER BY m.area_id, m.role), '')"
    return f"(SELECT {roles} FROM accounts_membership m WHERE m.user_id = {who})"  # noqa: S608 (a fixed column)


# The digest of a person's standing, as the grant keeps it and each tile checks it again:
# active, superuser, password (only its digest: the grant keeps no copy of the hash) and
# memberships, and the standing of whoever may know their password (active, superuser,
# memberships: it signs in only while they may still manage them,
# accounts.scope.password_still_usable). One SQL expression for both, over the user row
# aliased u. A change of their roles ends the grant even where they still manage the
# person, until the map's next token (renewed every few minutes), whose session check
# applies the rule.
STANDING = f"""md5(u.is_active || ':' || u.is_superuser || ':' || u.password || '|' || {_roles("u.id")} || coalesce((
    SELECT string_agg('|' || k.id || ':' || k.is_active || ':' || k.is_superuser || ':' || {_roles("k.id")}, ''
                      ORDER BY k.id)
    FROM accounts_user k WHERE k.id = u.password_set_by_id OR k.id = ANY(u.password_known_also_by)), ''))"""  # noqa: S608 (fixed expressions)


def _grant_valid(key: str, now: str) -> str:
    """SQL: the grant `key` still holds at `now`: its session alive, its person active and
    standing as it saw them. The digest is a subquery on the grant's own row, read after
    its key matched: as a join condition it was a hash key, computed for every account of
    the registry at each tile."""
    return f"""EXISTS (
    SELECT 1 FROM mapping_tilegrant g
    JOIN django_session s ON s.session_key = g.session_key AND s.expire_date > {now}
    WHERE g.key = {key}
      AND g.standing = (SELECT {STANDING} FROM accounts_user u WHERE u.id = g.user_id AND u.is_active))"""  # noqa: S608 (fixed expressions are formatted in)


# In a tile's own statement on the primary: the grant and the tile's clock are its
# parameters; a request without a token (no grant) had its session checked already.
GRANT_IN_TILE = f"(%(grant)s::text IS NULL OR {_grant_valid('%(grant)s::text', '%(now)s::timestamptz')})"
# On its own, where sessions and accounts are written, for a tile read on a replica.
GRANT_HOLDS = f"SELECT {_grant_valid('%s', '%s')}"

GRANT = f"""
INSERT INTO mapping_tilegrant (key, session_key, user_id, standing, created_at)
SELECT %s, %s, u.id, {STANDING}, %s FROM accounts_user u WHERE u.id = %s
ON CONFLICT (session_key) DO UPDATE SET user_id = EXCLUDED.user_id, standing = EXCLUDED.standing
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
        cursor.execute(GRANT, [secrets.token_urlsafe(32), request.session.session_key, now, request.user.pk])
        key, created = cursor.fetchone()
        if created:
            cursor.execute(FORGET, [now])
    return key


def grant_holds(key: str) -> bool:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(GRANT_HOLDS, [timezone.now(), key])
        return cursor.fetchone()[0]


def issue(request) -> str:
    """A token for the map of this signed-in request's session."""
    scope = scope_for(request.user)
    payload = {"u": str(request.user.pk), "e": scope.everything, "g": scope.grants, "k": grant(request)}
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

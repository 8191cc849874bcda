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
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.models import User
from accounts.scope import Scope, scope_for

SALT = "mapping.tile-token"
SCHEME = "Tile"  # Authorization: Tile <token>
VERIFIED_KEPT = 1024

_verified: OrderedDict = OrderedDict()  # token: (holder, expiry in epoch seconds)
_lock = threading.Lock()


# The sum of the counts (mapping.TileStanding) of the area tree, of the person `who` and
# of who else may know their password (`knowers`): SQL expressions.
def _standing(who: str, knowers: str) -> str:
    return f"""(SELECT coalesce(sum(t.version), 0)::bigint FROM mapping_tilestanding t
                WHERE t.user_id = ANY (ARRAY[0, {who}] || {knowers}))"""  # noqa: S608 (fixed expressions)


def _grant_valid(key: str, now: str) -> str:
    """SQL: the grant `key` still holds at `now`: its session alive, its person's standing,
    and that of who may know their password, the one it was made under."""
    return f"""EXISTS (
    SELECT 1 FROM mapping_tilegrant g
    JOIN django_session s ON s.session_key = g.session_key AND s.expire_date > {now}
    WHERE g.key = {key} AND g.standing = {_standing("g.user_id", "g.knowers")})"""  # noqa: S608 (fixed expressions are formatted in)


# In a tile's own statement on the primary: the grant and the tile's clock are its
# parameters; a request without a token (no grant) had its session checked already.
GRANT_IN_TILE = f"(%(grant)s::text IS NULL OR {_grant_valid('%(grant)s::text', '%(now)s::timestamptz')})"
# On its own, where sessions and grants are written, for a tile read on a replica.
GRANT_HOLDS = f"SELECT {_grant_valid('%s', '%s')}"

# The grant of a session, with who may know its person's password (accounts.scope.
# knowers_of_password: whoever set it and whoever knew theirs then) and their standing.
# It keeps its key while all that is the same (a renewal); otherwise, or for a session
# signed in as someone else (Django gives a sign-in a new session key, so only in SQL),
# a new key, so the tokens made before stay ended. Nothing when the person is gone.
GRANT = f"""
WITH person AS (
    SELECT u.id, array_remove(ARRAY[u.password_set_by_id] || u.password_known_also_by, NULL) AS knowers
    FROM accounts_user u WHERE u.id = %(user)s
)
INSERT INTO mapping_tilegrant (key, session_key, user_id, knowers, standing, created_at)
SELECT %(key)s, %(session)s, p.id, p.knowers, {_standing("p.id", "p.knowers")}, %(now)s FROM person p
ON CONFLICT (session_key) DO UPDATE SET
    key = CASE WHEN (mapping_tilegrant.user_id, mapping_tilegrant.knowers, mapping_tilegrant.standing)
                    = (EXCLUDED.user_id, EXCLUDED.knowers, EXCLUDED.standing)
               THEN mapping_tilegrant.key ELSE EXCLUDED.key END,
    user_id = EXCLUDED.user_id,
    knowers = EXCLUDED.knowers,
    standing = EXCLUDED.standing
RETURNING key, xmax = 0
"""  # noqa: S608 (a fixed expression is formatted in)
# Grants whose session is gone, dropped when a new session takes one, but for a grant a
# change still open holds (a person being deleted): no map waits for it.
FORGET = """
DELETE FROM mapping_tilegrant WHERE key IN (
    SELECT g.key FROM mapping_tilegrant g
    WHERE NOT EXISTS (SELECT 1 FROM django_session s WHERE s.session_key = g.session_key AND s.expire_date > %s)
    FOR UPDATE SKIP LOCKED)
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
    given = {"key": secrets.token_urlsafe(32), "session": request.session.session_key, "user": request.user.pk}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(GRANT, {**given, "now": now})
            made = cursor.fetchone()
    except IntegrityError:  # the person deleted while this request ran
        made = None
    if made is None:
        raise PermissionDenied
    key, created = made
    if created:
        with connection.cursor() as cursor:
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

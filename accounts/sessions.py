"""Sessions end after SESSION_IDLE_TIMEOUT_SECONDS without a request the person made, and
SESSION_ABSOLUTE_TIMEOUT_SECONDS after signing in however busy (OWASP ASVS level 2: 30
minutes idle, 12 hours in all). The idle end is the session's own expiry date, which
SESSION_COOKIE_AGE sets from the last save: a request moves it forward by saving the
session (at most once a minute, not a write per request), never past the twelve-hour
end, so the database itself holds both ends, and the map's tile grants
(mapping/tile_tokens.py), which read it, end with them.
Requests a page makes by itself move nothing: those of views only a page's own timers ask
(the map renewing its tile token, tiles) are marked `passive_session`; the survey app, whose
timers ask what the person's taps ask too (its half-minute sending rounds, the site list
refreshed every 15 minutes), says so per request with the header X-Passive-Session: 1. A
client can only end its own session sooner with it, never keep one. Tablets use device
tokens, which no session bounds."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .scope import password_still_usable

TOUCHED = "_touched_at"
SIGNED_IN = "_signed_in_at"
TOUCH_EVERY = 60
PASSIVE_HEADER = "X-Passive-Session"


def passive_session(view):
    """Mark a view whose requests the page makes by itself: they do not count as activity."""
    view.passive_session = True
    return view


@receiver(user_logged_in)
def _remember_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN] = int(time.time())


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # No session cookie, no session to end: reading request.user would load one and
        # mark the answer Vary: Cookie (health probes, token clients).
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        session = getattr(request, "session", None)
        if session is None or not request.user.is_authenticated:
            return None
        # Signed in with a password another person set, who may no longer manage them.
        if request.user.password_set_by_id is not None and not password_still_usable(request.user):
            logout(request)
            return None
        now = int(time.time())
        if SIGNED_IN not in session:  # a session from before these limits: counted from now
            session[SIGNED_IN] = now
        if now - session[SIGNED_IN] >= settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS:  # as the row's expiry
            logout(request)  # the view sees an anonymous request: sign in again
            return None
        passive = getattr(view_func, "passive_session", False) or request.headers.get(PASSIVE_HEADER) == "1"
        if not passive and now - session.get(TOUCHED, 0) >= TOUCH_EVERY:
            session[TOUCHED] = now  # saved at the response, with a new expiry date
            # Never past the twelve-hour end: the database holds that end too, and the
            # map's tile grants, which read it, end there without waiting for a request.
            left = session[SIGNED_IN] + settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS - now
            session.set_expiry(min(settings.SESSION_COOKIE_AGE, left))
        return None

"""The field survey web app: one page, its service worker and its manifest.
The page is the same for every user and needs no session (who is signed in, by session
or by the tablet's device token, comes from the API), so the service worker can cache
it for offline use and a tablet can open it to be paired."""

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from .filters import STATE_LABELS
from .models import Barrier, CloseReason, ProposalStatus, Signage, SiteKind
from .rules import DUPLICATE_RADIUS_M, state_table
from .serializers import InspectionIn, SiteIn
from .services import DEPTH_PLACES, MAX_DEPTH_M, MIN_DEPTH_M, depth_out_of_range

# What a field worker may give as the reason to close a site: any but works finished, a
# manager's call on a temporary site.
TABLET_CLOSE_REASONS = [reason for reason in CloseReason if reason != CloseReason.WORKS_FINISHED]
# GPS accuracy (metres) above which the app warns, and above which the worker must confirm
# that the pin is on the site before saving.
ACCURACY_WARN_M = 30
ACCURACY_CONFIRM_M = 100
# How far (metres) the tablet's GPS may be from a site before saving its inspection warns
# that the worker seems not to be there (a warning only: the GPS may be wrong).
INSPECT_FAR_M = 1000
TEMPLATES = Path(__file__).parent / "templates" / "survey"
# The id in the addresses of one record (a site's history, a photo) the page carries: the
# app puts the record's own in its place.
ID_SLOT = "00000000-0000-0000-0000-000000000000"
# What the app needs offline; the service worker caches exactly these.
# The ES modules the app imports as it starts, preloaded together by the page (one round
# trip instead of one per level of imports); offline-map.js loads when it is used.
START_MODULES = [
    "survey/app.js",
    "survey/api.js",
    "survey/areas.js",
    "survey/config.js",
    "survey/data.js",
    "survey/db.js",
    "survey/dom.js",
    "survey/drafts.js",
    "survey/due-list.js",
    "survey/format.js",
    "survey/forms.js",
    "survey/geo.js",
    "survey/inspect.js",
    "survey/map.js",
    "survey/menu.js",
    "survey/numbers.js",
    "survey/outbox.js",
    "survey/outbox-view.js",
    "survey/pairing.js",
    "survey/photos.js",
    "survey/position.js",
    "survey/proposals.js",
    "survey/register.js",
    "survey/sheet.js",
    "survey/signin.js",
    "survey/site-history.js",
    "survey/sitelist.js",
    "survey/sites.js",
    "survey/state.js",
    "survey/sync.js",
    "survey/views.js",
    "common/palette.js",
    "common/basemap.js",
]
SHELL_STATIC = [
    *START_MODULES,
    "survey/offline-map.js",
    "survey/survey.css",
    "survey/icons/icon-192.png",
    "survey/icons/icon-512.png",
    "leaflet/leaflet.js",
    "leaflet/leaflet.css",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
]


def _text_limit(serializer, name: str) -> dict:
    field = serializer().fields[name]
    return {"maxLength": field.max_length, "message": str(field.error_messages["max_length"])}


def record_limits() -> dict:
    """What the server checks on the values a worker types into a record (the services'
    depth rule, the sync serializers' lengths), with the server's own messages: the forms
    check them before saving, so that a wrong record never leaves the tablet to come back
    refused hours later. The numbers live on the server only."""
    depth = {
        "above": float(MIN_DEPTH_M),
        "max": float(MAX_DEPTH_M),
        "places": DEPTH_PLACES,
        "message": depth_out_of_range(),
    }
    return {
        "depth_m": depth,
        "water_depth_m": depth,
        "name": _text_limit(SiteIn, "name"),
        "notes": _text_limit(InspectionIn, "notes"),
    }


def shell_version() -> str:
    """Changes whenever a cached file changes, so tablets pick up new versions.
    Recomputed per request (a few hundred KB hashed) so it never goes stale."""
    digest = hashlib.sha256()
    for path in [finders.find(name) for name in SHELL_STATIC] + [TEMPLATES / "app.html", TEMPLATES / "sw.js"]:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    # A new basemap source changes what the worker serves from its tile cache.
    digest.update(json.dumps(settings.BASEMAP, sort_keys=True).encode())
    return digest.hexdigest()[:12]


@never_cache
@ensure_csrf_cookie
def app(request):
    config = {
        "urls": {
            "me": reverse("survey-me"),
            "pair": "/api/v1/pair/",
            "logout": reverse("logout"),
            "history": reverse("site-inspections", args=[ID_SLOT]),
            "areas": reverse("survey-areas"),
            "sites": reverse("survey-sites"),
            "sitesRest": reverse("survey-sites-rest"),
            "proposals": reverse("survey-proposals"),
            "site": reverse("sync-site"),
            "inspection": reverse("sync-inspection"),
            "closure": reverse("sync-closure"),
            "photo": reverse("sync-photo", args=[ID_SLOT]),
            "sw": reverse("survey-sw"),
            "scope": reverse("survey"),
            "login": f"{reverse('login')}?next={reverse('survey')}",
        },
        "idSlot": ID_SLOT,
        "timeZone": settings.TIME_ZONE,
        "duplicateRadius": DUPLICATE_RADIUS_M,
        "accuracyWarn": ACCURACY_WARN_M,
        "accuracyConfirm": ACCURACY_CONFIRM_M,
        "inspectFar": INSPECT_FAR_M,
        "offlineZooms": settings.SURVEY_OFFLINE_ZOOMS,
        "limits": record_limits(),
        "states": state_table(connection, Signage.values, Barrier.values),
        "stateLabels": {key: str(label) for key, label in STATE_LABELS.items()},
        "kinds": dict(SiteKind.choices),
        "signage": dict(Signage.choices),
        "barrier": dict(Barrier.choices),
        "closeReasons": {value: label for value, label in CloseReason.choices if value in TABLET_CLOSE_REASONS},
        "proposalStatus": dict(ProposalStatus.choices),
    }
    context = {
        "config": config,
        "start_modules": START_MODULES,
        "kinds": SiteKind.choices,
        "signage": Signage.choices,
        "barrier": Barrier.choices,
    }
    return render(request, "survey/app.html", context)


@never_cache
def service_worker(request):
    shell = [reverse("survey"), reverse("survey-manifest"), reverse("survey-jsi18n"), reverse("leaflet-icons")] + [
        static(p) for p in SHELL_STATIC
    ]
    response = render(
        request,
        "survey/sw.js",
        # basemap and basemap_origin come from the project's context processor (config/basemap.py).
        {"version": shell_version(), "shell": json.dumps(shell)},
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = reverse("survey")
    return response


def manifest(request):
    return JsonResponse(
        {
            "name": _("Drowning hazard survey"),
            "short_name": _("Hazard survey"),
            "start_url": reverse("survey"),
            "scope": reverse("survey"),
            "display": "standalone",
            "orientation": "any",
            "background_color": "#ffffff",
            "theme_color": "#0b3d91",
            "lang": request.LANGUAGE_CODE,
            "icons": [
                {"src": static("survey/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {
                    "src": static("survey/icons/icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any maskable",
                },
            ],
        },
        content_type="application/manifest+json",
    )

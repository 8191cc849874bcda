"""Leaflet's default marker images, named by the static files storage. Leaflet guesses
their folder from its CSS, which fails once the files carry hashed names
(ManifestStaticFilesStorage in production): every marker asked for a missing image.
One script serves every map: the survey's page loads it after Leaflet, and django-leaflet
(the admin's map widget and map tag) through LEAFLET_CONFIG's plugins."""

import json

from django.http import HttpResponse
from django.templatetags.static import static

IMAGES = {
    "iconUrl": "leaflet/images/marker-icon.png",
    "iconRetinaUrl": "leaflet/images/marker-icon-2x.png",
    "shadowUrl": "leaflet/images/marker-shadow.png",
}


def leaflet_icons(request):
    urls = {option: static(name) for option, name in IMAGES.items()}
    script = (
        f"L.Icon.Default.mergeOptions({json.dumps(urls)});\n"
        # The URLs are whole: no folder guessed and put in front of them.
        "L.Icon.Default.prototype._getIconUrl = L.Icon.prototype._getIconUrl;\n"
    )
    response = HttpResponse(script, content_type="application/javascript")
    # The names change with the files; a browser asks again after a release.
    response["Cache-Control"] = "public, max-age=3600"
    return response

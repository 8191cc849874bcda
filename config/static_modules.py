"""The import map that lets ES modules import each other by their plain names under the
hashed static storage of production.

`app.js` says `import … from "./db.js"`; collectstatic publishes `db.<hash>.js`, the only
name that is cached for a year and that the survey's service worker keeps offline. The
browser resolves "./db.js" to /static/survey/db.js and the map sends it to the hashed
file, so the modules stay plain files with no build step and every import (static or
dynamic, in any module of the project) reaches the file of this very release."""

import functools
import json

from django import template
from django.conf import settings
from django.contrib.staticfiles.finders import FileSystemFinder
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()
SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@functools.cache
def module_urls() -> dict[str, str]:
    """Plain URL → published URL of every JavaScript file in the project's static folders
    (vendored libraries included), where the two differ."""
    urls = {}
    for name, _storage in FileSystemFinder().list([]):
        name = name.replace("\\", "/")
        if name.endswith((".js", ".mjs")):
            plain, published = f"{settings.STATIC_URL}{name}", static(name)
            if plain != published:
                urls[plain] = published
    return dict(sorted(urls.items()))


@register.simple_tag(takes_context=True)
def module_importmap(context) -> str:
    """`<script type="importmap">` for the page's head, before any module script; nothing
    where static names are not hashed (development and most tests)."""
    urls = module_urls()
    if not urls:
        return ""
    # Inside a script element entities are not decoded: the JSON goes in as it is, with
    # the characters that could end the element escaped as JSON escapes.
    body = json.dumps({"imports": urls}).translate(SCRIPT_ESCAPES)
    return format_html('<script type="importmap" nonce="{}">{}</script>', context.get("csp_nonce", ""), mark_safe(body))  # noqa: S308

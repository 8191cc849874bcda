"""Tile requests that carry the map's tile token are answered right after the security
headers are set, as WhiteNoise answers static files: they need nothing the middleware
below them does (session, language, CSRF, messages, framing), which cost a third of a
zoom-14 tile, nor CORS: the token reaches only a page of this site, so its tiles are
asked from the same origin. Every other request, tiles asked with a session or a device
token included, takes the usual way."""

from django.urls import Resolver404, resolve

from . import tile_tokens

TILE_URL_NAME = "site-tile"


class TileTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if tile_tokens.presented(request) is not None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.url_name == TILE_URL_NAME:
                request.resolver_match = match  # as the handler would: the request's log line names it
                response = match.func(request, *match.args, **match.kwargs)
                # As CommonMiddleware would: without a length the server closes the
                # connection after each tile instead of keeping it for the next.
                response.headers["Content-Length"] = str(len(response.content))
                return response
        return self.get_response(request)

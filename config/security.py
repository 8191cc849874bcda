"""Content Security Policy for every response: scripts only from this site or carrying the
request's nonce, no framing, no plugins. The basemap is the one outside source."""

import secrets

from .basemap import basemap_origin


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy(request.csp_nonce)
        return response


def policy(nonce: str) -> str:
    tiles = basemap_origin()
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # Leaflet positions map panes with inline styles.
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {tiles}",
            # The survey app stores basemap tiles for offline use (fetch, in page and worker).
            f"connect-src 'self' {tiles}",
            "font-src 'self' data:",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def csp_nonce(request):
    """Template context: the nonce that inline scripts must carry."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}

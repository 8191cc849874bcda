"""Addresses of the registry's pages outside a browser (mails, files a person downloads):
absolute, under the registry's public address (settings.SITE_URL), so a link works from
wherever the mail or the workbook is opened."""

from django.conf import settings


def absolute_url(path: str) -> str:
    """The page at `path` (a URL path the registry serves, with its query) in full."""
    return settings.SITE_URL.rstrip("/") + path

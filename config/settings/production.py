"""Production: every secret and host from the environment, HTTPS only, behind nginx
(`make prod`, scripts/prod.py)."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_list


def secret_key() -> str:
    """DJANGO_SECRET_KEY_FILE (a file readable only by the service, as `make prod` writes
    it) or DJANGO_SECRET_KEY."""
    path = os.environ.get("DJANGO_SECRET_KEY_FILE")
    key = Path(path).read_text().strip() if path else os.environ.get("DJANGO_SECRET_KEY", "")
    if len(key) < 50:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY_FILE (or DJANGO_SECRET_KEY) to a random string of 50+ characters."
        )
    return key


SECRET_KEY = secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Static files are served by nginx from STATIC_ROOT; collectstatic gives them hashed
# names (cached for a year) and gzip copies.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", STATIC_ROOT))  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Errors (with their request) go to Sentry, or any service speaking its protocol, when a
# DSN is given; nothing leaves the machine otherwise.
if os.environ.get("SENTRY_DSN"):
    import sentry_sdk

    sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        send_default_pii=False,  # user ids only; no addresses, cookies or bodies
        traces_sample_rate=0.0,
    )

"""Settings shared by every environment; each value that differs comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from config.basemap import basemap_offline
from config.jsonlog import JSON_FORMATTER
from config.switches import ON

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ON


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_url() -> str:
    """DATABASE_URL wins; otherwise the project's own cluster that scripts/localdb.sh started."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    local = BASE_DIR / ".localdb-url"
    if local.exists():
        return local.read_text().strip()
    raise ImproperlyConfigured(
        "No database: set DATABASE_URL (postgis://user:password@host:5432/name) "
        "or run `make run` to start the project's local PostGIS."
    )


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "leaflet",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "corsheaders",
    "areas",
    "accounts",
    "hazards",
    "reports",
    "mapping",
]

MIDDLEWARE = [
    "config.observability.RequestLogMiddleware",  # first: it times and logs everything after it
    "django.middleware.security.SecurityMiddleware",
    "config.errors.RefuseNulMiddleware",
    "config.errors.RefuseRepeatedParametersMiddleware",
    "config.replicas.ReplicaReadsMiddleware",  # before the tile shortcut, which reads too
    # The map page's own tiles skip what follows, CORS included (a twentieth of a zoom-14
    # tile): its token comes only to a page of this site, so they are asked same-origin.
    "mapping.middleware.TileTokenMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # before anything else that answers (preflights, tiles)
    "config.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.SessionTimeoutMiddleware",
    "accounts.audit.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.errors.BadInputMiddleware",  # last: it sees the view's exception first
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.security.csp_nonce",
                "config.basemap.basemap",
                "common.navigation.header",
            ],
            "libraries": {"static_modules": "config.static_modules"},
        },
    },
]

DATABASES = {"default": dj_database_url.parse(database_url(), conn_max_age=60)}
# Read replicas (config/replicas.py): reads that may lag a few seconds go there.
for _number, _url in enumerate(os.environ.get("DATABASE_REPLICA_URL", "").split(), start=1):
    DATABASES[f"replica{_number}"] = {**dj_database_url.parse(_url, conn_max_age=60), "TEST": {"MIRROR": "default"}}
# libpq waits forever for a host that accepts and never answers (a frozen machine, a
# network black hole): a replica gives up soon and is set aside as one that refuses; the
# primary, which nothing replaces, is given longer. A URL's own ?connect_timeout= wins.
REPLICA_CONNECT_TIMEOUT_SECONDS = int(os.environ.get("REPLICA_CONNECT_TIMEOUT_SECONDS", 3))
DATABASE_CONNECT_TIMEOUT_SECONDS = int(os.environ.get("DATABASE_CONNECT_TIMEOUT_SECONDS", 10))
# A server whose host dies or whose network is cut during a query is given up within
# about 30 s, the query failing as a lost connection (a 503 for a request, a failed job),
# where TCP's own defaults wait two hours: the job worker, which no gunicorn timeout
# stops, held a job that long. Keepalive probes after 10 s of silence, and data left
# unacknowledged for 30 s, end the connection; a live server's kernel answers both, so
# a long query is not cut. Over a Unix socket they do not apply. A URL's own options win.
DEAD_PEER_OPTIONS = {"keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 30_000}
for _alias, _database in DATABASES.items():
    _database["ENGINE"] = "django.contrib.gis.db.backends.postgis"
    _timeout = REPLICA_CONNECT_TIMEOUT_SECONDS if _alias.startswith("replica") else DATABASE_CONNECT_TIMEOUT_SECONDS
    _database["OPTIONS"] = {"connect_timeout": _timeout, **DEAD_PEER_OPTIONS, **_database.get("OPTIONS", {})}
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
# After a write, the writer's reads stay on the primary this long; a replica unreachable, or
# not shown following the primary within REPLICA_MAX_LAG_SECONDS (config/replicas.py), is
# left alone for REPLICA_RETRY_SECONDS.
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", 5))
REPLICA_MAX_LAG_SECONDS = int(os.environ.get("REPLICA_MAX_LAG_SECONDS", 30))
REPLICA_RETRY_SECONDS = int(os.environ.get("REPLICA_RETRY_SECONDS", 30))
# The routes whose GET may read data a few seconds old: the map's tiles and lists, exports
# and OGC. Past-period reports choose in reports/selectors.py; everything else, the sync
# API and the survey included, reads the primary.
LAGGING_READ_VIEWS = {
    "site-tile",
    "map-sites",
    "map-areas",
    "map-priority",
    "map-priority-file",
    "site-export",
    "ogc-collections",
    "ogc-collection",
    "ogc-items",
    "ogc-item",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Sessions end after this long without a request the person made, and this long after
# signing in at the most (accounts/sessions.py; OWASP ASVS level 2).
SESSION_IDLE_TIMEOUT_SECONDS = int(os.environ.get("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60))
SESSION_ABSOLUTE_TIMEOUT_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT_SECONDS", 12 * 3600))
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_SECONDS
# A refused CSRF check answers like every other refusal (config/errors.py).
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

# Vietnamese first: most users read only Vietnamese.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
# Files only some may fetch (job results; photos) are sent by hazards/private_files.py
# after the caller's check. Behind nginx, the nginx location (marked `internal`) that
# serves MEDIA_ROOT: the view then answers with X-Accel-Redirect to it and never reads the
# file. Empty: the view sends the file.
MEDIA_ACCEL_REDIRECT_PREFIX = os.environ.get("MEDIA_ACCEL_REDIRECT_PREFIX", "")
# Where `manage.py backup` writes dated backups (hazards/backup.py), and PostgreSQL's
# client programs of the server's major version (pg_dump must not be older than the server).
BACKUP_ROOT = Path(os.environ.get("DJANGO_BACKUP_ROOT", BASE_DIR / "backups"))
POSTGRES_BIN_DIR = os.environ.get("POSTGRES_BIN_DIR", "/usr/lib/postgresql/15/bin")
# Files sent to the import page: working copies for their session, never served; kept
# outside MEDIA_ROOT so that no web server configuration can expose them.
IMPORT_UPLOAD_ROOT = Path(os.environ.get("DJANGO_IMPORT_UPLOAD_ROOT", BASE_DIR / "var" / "imports"))
# What files sent to the server may take of its disk (hazards/storage_quota.py): an upload
# is kept IMPORT_UPLOAD_KEPT_HOURS; a person may keep at most IMPORT_QUOTA_BYTES of uploads,
# of files of their runs still queued (copied into the database) and of job results not
# yet expired; and nothing is kept that would leave less than IMPORT_MIN_FREE_BYTES free on
# the uploads' disk (the photos' and results' disk too, as a rule).
IMPORT_UPLOAD_KEPT_HOURS = int(os.environ.get("IMPORT_UPLOAD_KEPT_HOURS", 24))
IMPORT_QUOTA_BYTES = int(os.environ.get("IMPORT_QUOTA_BYTES", 1_000_000_000))
IMPORT_MIN_FREE_BYTES = int(os.environ.get("IMPORT_MIN_FREE_BYTES", 2_000_000_000))

# The background map of every map (planner, survey, reports, admin): one XYZ raster
# source. "offline" says whether the survey app may store its tiles on a tablet
# (BASEMAP_OFFLINE, config/basemap.py): only where the operator says the server's terms
# allow it, never from OpenStreetMap's own tile server, whose tile policy forbids
# downloading tiles to view later; a registry whose tablets store their communes names its
# own or a commercial tile server here and turns BASEMAP_OFFLINE on.
_basemap_url = os.environ.get("BASEMAP_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
BASEMAP = {
    "url": _basemap_url,
    "attribution": os.environ.get(
        "BASEMAP_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    ),
    "max_zoom": int(os.environ.get("BASEMAP_MAX_ZOOM", 19)),
    "offline": basemap_offline(_basemap_url, os.environ.get("BASEMAP_OFFLINE")),
}
# The zoom levels (first-last) a tablet stores for "offline map of my communes".
SURVEY_OFFLINE_ZOOMS = tuple(int(z) for z in os.environ.get("SURVEY_OFFLINE_ZOOMS", "10-17").split("-", 1))

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (16.0, 106.0),
    "DEFAULT_ZOOM": 5,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "RESET_VIEW": False,
    # The marker images' URLs from the static files storage (config/leaflet_icons.py), on
    # django-leaflet's maps and in its form widget.
    "PLUGINS": {
        "icons": {"js": [reverse_lazy("leaflet-icons")], "auto-include": True},
        "forms": {"js": [reverse_lazy("leaflet-icons")]},
    },
    "TILES": [
        ("OpenStreetMap", BASEMAP["url"], {"attribution": BASEMAP["attribution"], "maxZoom": BASEMAP["max_zoom"]})
    ],
}

# How long a map's token for tile requests lasts (mapping/tile_tokens.py); the page renews
# it at a third of that.
MAP_TILE_TOKEN_SECONDS = int(os.environ.get("MAP_TILE_TOKEN_SECONDS", 600))

# Geometry arriving from files, forms and tablets must fall inside this envelope
# (lon_min, lat_min, lon_max, lat_max): mainland Vietnam with its islands.
COUNTRY_BOUNDS = (102.0, 6.0, 118.0, 24.0)

# How long a checked signage/barrier state stays trusted before the site is due again.
EVIDENCE_MAX_AGE_DAYS = int(os.environ.get("EVIDENCE_MAX_AGE_DAYS", 365))
TEMPORARY_EVIDENCE_MAX_AGE_DAYS = int(os.environ.get("TEMPORARY_EVIDENCE_MAX_AGE_DAYS", 90))

# Remediation order reminders (hazards/reminders.py): this many days before a deadline,
# and the day after it. Mail goes through Django's mail system: printed on the console
# unless a backend is named (production: DJANGO_EMAIL_BACKEND and DJANGO_EMAIL_HOST...).
ORDER_REMINDER_DAYS_BEFORE = int(os.environ.get("ORDER_REMINDER_DAYS_BEFORE", 3))
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "so-nguy-co@localhost")
# Links in mail need the site's address (no request to take it from).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# One JSON object per line on standard error (gunicorn and the job worker send it to their
# log files): time, level, logger, message, the request or job id, and a traceback for
# errors. Requests are logged by config.observability.RequestLogMiddleware, so Django's own
# per-request warnings (4xx) would say the same thing twice.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.log_context.LogContextFilter"}},
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # The queue's start-up chatter stays out; each job's start and end stay in.
        "procrastinate": {"level": "WARNING"},
        "procrastinate.worker": {"level": "INFO"},
    },
}
# The job queue (config/jobs.py): a worker's heartbeat period, how long a silent worker is
# taken for dead (its jobs are queued again), how long finished runs are kept.
JOBS_HEARTBEAT_SECONDS = int(os.environ.get("JOBS_HEARTBEAT_SECONDS", 10))
JOBS_STALLED_SECONDS = int(os.environ.get("JOBS_STALLED_SECONDS", 30))
JOBS_KEPT_DAYS = int(os.environ.get("JOBS_KEPT_DAYS", 7))
# How long a job's file (an export, a report) can be downloaded (hazards/tasks.py).
JOBS_RESULT_HOURS = int(os.environ.get("JOBS_RESULT_HOURS", 24))
# How many exports and reports one person may have waiting or running at once.
JOBS_MAX_WAITING_PER_PERSON = int(os.environ.get("JOBS_MAX_WAITING_PER_PERSON", 3))
# Exports of more sites than this (and every GeoPackage, Shapefile and KML) run as jobs.
EXPORT_INLINE_MAX_SITES = int(os.environ.get("EXPORT_INLINE_MAX_SITES", 50_000))
PROCRASTINATE_IMPORT_PATHS = ["config.jobs"]
PROCRASTINATE_WORKER_DEFAULTS = {
    "update_heartbeat_interval": JOBS_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": JOBS_STALLED_SECONDS,
    "delete_jobs": "successful",  # the runs' own records keep what users see
}
# /readyz fails when the photo disk has less free space than this.
READY_MIN_FREE_BYTES = int(os.environ.get("READY_MIN_FREE_BYTES", 1_000_000_000))

# gis.W001: GDAL 3.6 (Debian 12) cannot be told to block file and network access from
# a malicious spatial reference, and files do come from outside: field workers upload
# site lists on /imports/, administrators load boundaries and schools. So no such file
# reaches GDAL unchecked (areas/spatialfile.py): GeoJSON is read by the registry's own
# reader, which refuses any crs but WGS 84 by name, before GDAL may open it; GDAL opens
# a file only with the one driver its suffix names, once its first bytes agree (no VRT,
# KML or other format that follows links); GeoPackage and Shapefile references are
# parsed as WKT only. tests/security/test_no_network.py feeds every way in files that
# point at a listening socket and fails on any connection. PROJ's network stays off.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
os.environ.setdefault("PROJ_NETWORK", "OFF")

# Evidence photos: bytes per file, pixels per image (decompression bombs are refused).
PHOTO_MAX_BYTES = 15_000_000
PHOTO_MAX_PIXELS = 50_000_000
# Requests carry at most one photo; anything larger is refused before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = PHOTO_MAX_BYTES + 1_000_000
FILE_UPLOAD_MAX_MEMORY_SIZE = PHOTO_MAX_BYTES + 1_000_000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.parsers.ContentNegotiation",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# Web maps on other sites may read the GIS endpoints (OGC API, tiles and their TileJSON and
# style): GET, HEAD and their preflights, from any origin, never with cookies (the browser
# refuses a credentialed answer to "*"), so only a device token sent as a header opens data.
CORS_URLS_REGEX = r"^/(ogc|tiles)/"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "accept-language", "authorization"]
CORS_EXPOSE_HEADERS = ["Content-Crs", "Link"]
CORS_PREFLIGHT_MAX_AGE = 86400

SPECTACULAR_SETTINGS = {
    "TITLE": "Hazard registry API",
    "DESCRIPTION": "Sites with deep water, their inspections and photos; the tablet sync API.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page describe every route, filter and error of the API: for
    # people and devices that use it (a session or a device token), as every /ogc/ resource,
    # its own OpenAPI document included, already is (pentest I10).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from our own static files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
LOGIN_REDIRECT_URL = "home"

# Proxies in front of the app that append to X-Forwarded-For (0: none, trust REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))

# Administrative documents (reports/administrative/): Liberation Serif 2 (Debian's fonts-liberation2),
# metric-compatible with the Times New Roman that Nghị định 30/2020 names, with every
# Vietnamese letter (Liberation 1 lacks the stacked diacritics).
DOCUMENT_FONT_DIR = Path(os.environ.get("DOCUMENT_FONT_DIR", "/usr/share/fonts/truetype/liberation2"))
DOCUMENT_FONTS = {
    "regular": DOCUMENT_FONT_DIR / "LiberationSerif-Regular.ttf",
    "bold": DOCUMENT_FONT_DIR / "LiberationSerif-Bold.ttf",
    "italic": DOCUMENT_FONT_DIR / "LiberationSerif-Italic.ttf",
    "bold_italic": DOCUMENT_FONT_DIR / "LiberationSerif-BoldItalic.ttf",
}
# Numbers group thousands in every language (config/formats: Django's Vietnamese formats
# set no grouping); common.numbers formats them.
FORMAT_MODULE_PATH = ["config.formats"]

"""Gunicorn as `make prod` runs it (scripts/prod.py passes the socket and the numbers).

Threaded workers: requests mostly wait on PostgreSQL, and a thread waiting lets the
others run. Long work (imports, big exports, national documents) runs as jobs, so what is
left in a request takes seconds: a worker silent for GUNICORN_TIMEOUT seconds is hung and
restarted. nginx buffers uploads whole before passing them on, so a slow tablet never
holds a thread here."""

import os

from config.jsonlog import JSON_FORMATTER

workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 30  # nginx keeps its connections to the socket open
# A worker is replaced after this many requests, so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200
# Signals (scripts/prod.py) manage it; a control socket in a shared home folder would
# clash between stacks on one machine.
control_socket_disable = True
# Requests are logged by the application (one JSON line with the request id); gunicorn
# logs only its own events, in the same JSON form.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

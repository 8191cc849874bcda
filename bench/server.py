"""A server on the benchmark database for the benchmarks that need one over HTTP (a
browser, ogr2ogr): runserver with the benchmark settings, on a free port."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

from django.conf import settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log=subprocess.DEVNULL) -> subprocess.Popen:
    """The server, once it answers; `log` takes its request log (a file)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    for _i in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the benchmark server did not start")

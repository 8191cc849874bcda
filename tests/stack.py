"""The production stack (scripts/prod.py: nginx with TLS, gunicorn, the job worker,
production settings) started for the test database on free ports in a folder of its own,
as `make prod` starts it. Browser tests drive Chromium against it."""

import contextlib
import getpass
import os
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

CHECKOUT = Path(settings.BASE_DIR)
# What a copy of the checkout leaves out: the environment, the databases, what a start writes.
NOT_RELEASED = shutil.ignore_patterns(".venv", ".git", ".pg", ".prod", "media", "staticfiles", "*cache*", "__pycache__")


@dataclass
class Stack:
    url: str
    dir: Path
    env: dict
    root: Path = CHECKOUT

    def run(self, action: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        prod = self.root / "scripts" / "prod.py"
        return subprocess.run(
            [sys.executable, str(prod), action, *args], env=self.env, check=check, capture_output=True, text=True
        )

    def log(self, name: str) -> str:
        path = self.dir / "log" / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def pid(self, name: str) -> int | None:
        """The process `name` (supervisor, nginx, gunicorn's master, worker) if it runs."""
        try:
            pid = int((self.dir / "run" / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def get(self, path: str, headers: dict | None = None) -> tuple[int, Message, bytes]:
        """GET through nginx (status, headers, body); 0 when nothing answers. The headers as
        they came, a header sent twice included (`get_all`)."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test stack's own certificate
        request = urllib.request.Request(self.url + path, headers=headers or {})  # noqa: S310 - https, ours
        try:
            # As long as nginx waits for the app (PROXY_TIMEOUT): a request during a reload
            # waits for gunicorn's new workers to load the app, seconds on a busy machine.
            with urllib.request.urlopen(request, context=context, timeout=120) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()
        except (urllib.error.URLError, OSError):
            return 0, Message(), b""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created (test_…), for the stack's processes."""
    db = connection.settings_dict
    auth = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgis://{auth}@{quote(db['HOST'], safe='')}{port}/{db['NAME']}"


def make_certificate(folder: Path) -> tuple[Path, Path, str]:
    """A certificate for 127.0.0.1 and the SHA-256 of its public key, which Chromium is told
    to trust (a service worker registers only from an origin whose certificate is trusted)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    public = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"], check=True, capture_output=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=public, check=True, capture_output=True
    )
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-binary"], input=der.stdout, check=True, capture_output=True
    )
    spki = subprocess.run(["base64", "-w0"], input=digest.stdout, check=True, capture_output=True).stdout.decode()
    return cert, key, spki


def release(folder: Path, change) -> Path:
    """A copy of this checkout as a new release would bring it, with `change(root)` made."""
    root = folder / "release"
    shutil.copytree(CHECKOUT, root, ignore=NOT_RELEASED)
    change(root)
    return root


@contextlib.contextmanager
def running_stack(folder: Path, cert: Path, key: Path, root: Path = CHECKOUT, port: int | None = None, **extra_env):
    """Starts the stack of the checkout at `root` in `folder`, yields it, stops it. Its
    processes run as the user running the tests, who also writes the test photos they
    serve."""
    https = port or free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PROD_", "TLS_", "DATABASE_URL"))},
        "PROD_DIR": str(folder),
        "PROD_PYTHON": sys.executable,
        "PROD_USER": getpass.getuser(),
        "PROD_HTTPS_PORT": str(https),
        "PROD_HTTP_PORT": "0",  # no plain-HTTP redirect: one free port is enough
        "PROD_SERVER_NAMES": "127.0.0.1",
        "TLS_CERT": str(cert),
        "TLS_KEY": str(key),
        "DATABASE_URL": test_database_url(),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "GUNICORN_WORKERS": "2",
        **extra_env,
    }
    stack = Stack(url=f"https://127.0.0.1:{https}", dir=folder, env=env, root=root)
    started = stack.run("start", check=False)
    try:
        if started.returncode != 0:
            raise RuntimeError(f"the stack did not start:\n{started.stdout}\n{started.stderr}\n{stack.log('gunicorn')}")
        yield stack
    finally:
        stack.run("stop", check=False)
        shutil.rmtree(folder / "static", ignore_errors=True)

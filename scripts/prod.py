#!/usr/bin/env python3
"""The production stack on one machine: nginx (TLS, static files, photos after the app's
scope check), gunicorn and the job worker (procrastinate), with production settings.

    scripts/prod.py start | stop | status | manage ARGS...     (make prod, prod-stop, prod-status)

`start` is safe to run again: it keeps what it generated (secret, certificate, database
password), applies migrations, collects static files, starts what is not running and
reloads nginx. Every value comes from the environment, else from the stack's env file
(what the last start used), else a default; see README, "Production". Only the standard
library: it runs before anything else is installed.
"""

import os
import pwd
import re
import secrets
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(os.environ.get("PROD_PYTHON", ROOT / ".venv" / "bin" / "python"))
# Settings the application reads, saved in the env file so that `manage`, the worker and a
# later `start` see the same.
APP_SETTINGS = (
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY_FILE",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_IMPORT_UPLOAD_ROOT",
    "DJANGO_STATIC_ROOT",
    "DJANGO_LOG_LEVEL",
    "MEDIA_ACCEL_REDIRECT_PREFIX",
    "TRUSTED_PROXY_COUNT",
    "READY_MIN_FREE_BYTES",
    "EVIDENCE_MAX_AGE_DAYS",
    "TEMPORARY_EVIDENCE_MAX_AGE_DAYS",
    "MAP_TILE_TOKEN_SECONDS",
    "JOBS_HEARTBEAT_SECONDS",
    "JOBS_STALLED_SECONDS",
    "JOBS_KEPT_DAYS",
    "BASEMAP_URL",
    "BASEMAP_ATTRIBUTION",
    "BASEMAP_MAX_ZOOM",
    "SURVEY_OFFLINE_ZOOMS",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
)
# How the stack itself is laid out, saved the same way.
STACK_SETTINGS = (
    "PROD_HTTPS_PORT",
    "PROD_HTTP_PORT",
    "PROD_SERVER_NAMES",
    "PROD_USER",
    "PROD_DB_NAME",
    "TLS_CERT",
    "TLS_KEY",
    "GUNICORN_WORKERS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "PROXY_TIMEOUT",
    "JOBS_WORKER_CONCURRENCY",
)
MEDIA_INTERNAL = "/protected-media/"
PROCESSES = ("nginx", "gunicorn", "worker")
# A stopped worker first ends its current job; one that takes longer is killed and runs
# again from the start later (every job is all or nothing).
WORKER_STOP_SECONDS = 120


class Stack:
    def __init__(self):
        self.dir = Path(os.environ.get("PROD_DIR", ROOT / ".prod")).resolve()
        self.run = self.dir / "run"
        self.log = self.dir / "log"
        self.env_file = self.dir / "env"
        saved = read_env(self.env_file)
        self.values = {k: os.environ.get(k, saved.get(k, "")) for k in APP_SETTINGS + STACK_SETTINGS}

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name) or default

    # ---------- configuration ----------
    @property
    def user(self) -> str:
        default = "hazards" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        return self.get("PROD_USER", default)

    @property
    def https_port(self) -> int:
        return int(self.get("PROD_HTTPS_PORT", "443"))

    @property
    def http_port(self) -> int:
        return int(self.get("PROD_HTTP_PORT", "80"))

    @property
    def server_names(self) -> list[str]:
        default = " ".join(dict.fromkeys(["localhost", "127.0.0.1", socket.getfqdn()]))
        return self.get("PROD_SERVER_NAMES", default).replace(",", " ").split()

    @property
    def origin_port(self) -> str:
        return "" if self.https_port == 443 else f":{self.https_port}"

    @property
    def base_url(self) -> str:
        return f"https://{self.server_names[0]}{self.origin_port}"

    def configure(self) -> dict:
        """Fills in every value the stack needs, generating secrets once, and saves them."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.run, self.log):
            folder.mkdir(exist_ok=True)
        self.ensure_user()
        v = self.values
        v["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
        v["DJANGO_MEDIA_ROOT"] = self.get("DJANGO_MEDIA_ROOT", str(self.dir / "media"))
        # Import-page uploads: outside the media folder nginx serves from (never public).
        v["DJANGO_IMPORT_UPLOAD_ROOT"] = self.get("DJANGO_IMPORT_UPLOAD_ROOT", str(self.dir / "imports"))
        v["DJANGO_STATIC_ROOT"] = self.get("DJANGO_STATIC_ROOT", str(self.dir / "static"))
        v["DJANGO_ALLOWED_HOSTS"] = self.get("DJANGO_ALLOWED_HOSTS", ",".join(self.server_names))
        v["DJANGO_CSRF_TRUSTED_ORIGINS"] = self.get(
            "DJANGO_CSRF_TRUSTED_ORIGINS", ",".join(f"https://{n}{self.origin_port}" for n in self.server_names)
        )
        v["MEDIA_ACCEL_REDIRECT_PREFIX"] = MEDIA_INTERNAL
        # nginx, which appends the address it saw; one more per load balancer in front of it.
        v["TRUSTED_PROXY_COUNT"] = self.get("TRUSTED_PROXY_COUNT", "1")
        v["DJANGO_SECRET_KEY_FILE"] = str(self.secret_file())
        if not v["DATABASE_URL"]:
            v["PROD_DB_NAME"] = self.get("PROD_DB_NAME", "hazards")
            v["DATABASE_URL"] = self.local_database()
        elif v["PROD_DB_NAME"]:  # ours, made at an earlier start: it may not run after a reboot
            run(["pg_ctlcluster", "15", "main", "start"], check=False, stderr=subprocess.DEVNULL)
        for folder in (Path(v["DJANGO_MEDIA_ROOT"]), Path(v["DJANGO_IMPORT_UPLOAD_ROOT"]), self.run):
            folder.mkdir(parents=True, exist_ok=True)
            self.give(folder)
        self.write_env()
        return {k: val for k, val in v.items() if k in APP_SETTINGS and val}

    def ensure_user(self) -> None:
        if os.geteuid() != 0 or self.user == "root":
            return
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            run(["useradd", "--system", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", self.user])

    def give(self, path: Path) -> None:
        """The service user owns what it writes (photos, the socket)."""
        if os.geteuid() == 0:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def secret_file(self) -> Path:
        path = self.dir / "secret_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(64) + "\n")
        path.chmod(0o600)
        self.give(path)
        return path

    def local_database(self) -> str:
        """No DATABASE_URL: a database in Debian's PostgreSQL cluster (15/main), with a
        generated password kept in the env file."""
        name = self.values["PROD_DB_NAME"]
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            sys.exit(f"PROD_DB_NAME must be lower-case letters, digits and _ (it is written into SQL): {name!r}")
        password = secrets.token_urlsafe(24)  # letters, digits, - and _: safe inside quotes
        run(["pg_ctlcluster", "15", "main", "start"], check=False, stderr=subprocess.DEVNULL)
        port = subprocess.run(
            ["pg_conftool", "-s", "15", "main", "show", "port"], capture_output=True, text=True, check=True
        ).stdout.strip()
        psql = ["runuser", "-u", "postgres", "--", "psql", "-p", port, "-v", "ON_ERROR_STOP=1", "-qtA"]
        found = [*psql, "-c", f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'"]  # noqa: S608 (checked above)
        role = "ALTER" if subprocess.run(found, capture_output=True).stdout.strip() else "CREATE"
        run([*psql, "-c", f"{role} ROLE \"{name}\" LOGIN PASSWORD '{password}'"])
        found = [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"]  # noqa: S608 (checked above)
        if not subprocess.run(found, capture_output=True).stdout.strip():
            run([*psql, "-c", f'CREATE DATABASE "{name}" OWNER "{name}"'])
        run([*psql, "-d", name, "-c", "CREATE EXTENSION IF NOT EXISTS postgis"])
        return f"postgis://{name}:{password}@127.0.0.1:{port}/{name}"

    def write_env(self) -> None:
        lines = [f"{k}={shlex.quote(v)}" for k, v in self.values.items() if v]
        fd = os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# Written by scripts/prod.py at each start: the values the stack runs with.\n")
            out.write("\n".join(lines) + "\n")
        self.env_file.chmod(0o600)

    def tls(self) -> tuple[str, str]:
        cert, key = self.get("TLS_CERT"), self.get("TLS_KEY")
        if cert and key:
            return cert, key
        folder = self.dir / "tls"
        folder.mkdir(exist_ok=True)
        cert, key = folder / "cert.pem", folder / "key.pem"
        if not cert.exists():
            names = ",".join(("IP:" if n.replace(".", "").isdigit() else "DNS:") + n for n in self.server_names)
            run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:3072", "-nodes", "-days", "825",
                    "-subj", f"/CN={self.server_names[0]}", "-addext", f"subjectAltName={names}",
                    "-keyout", str(key), "-out", str(cert),
                ],
                stderr=subprocess.PIPE,  # its progress dots; shown only if it fails
            )  # fmt: skip
            key.chmod(0o600)
        return str(cert), str(key)

    def nginx_conf(self) -> Path:
        cert, key = self.tls()
        user = self.user
        http_server = ""
        if self.http_port:
            http_server = (
                "    server {\n"
                f"        listen {self.http_port};\n"
                f"        listen [::]:{self.http_port};\n"
                "        server_name _;\n"
                f"        return 301 https://$host{self.origin_port}$request_uri;\n"
                "    }\n"
            )
        values = {
            # Workers as the service user, who owns the photos and the socket.
            "USER_LINE": f"user {user} {group_of(user)};" if os.geteuid() == 0 else "",
            "RUN": str(self.run),
            "LOG": str(self.log),
            "HTTP_SERVER": http_server,
            "HTTPS_PORT": str(self.https_port),
            "SERVER_NAMES": " ".join(self.server_names),
            "TLS_CERT": cert,
            "TLS_KEY": key,
            "PROXY_TIMEOUT": self.get("PROXY_TIMEOUT", "120"),
            "STATIC_ROOT": self.values["DJANGO_STATIC_ROOT"],
            "MEDIA_ROOT": self.values["DJANGO_MEDIA_ROOT"],
            "MEDIA_INTERNAL": MEDIA_INTERNAL,
        }
        text = (ROOT / "config" / "nginx.conf").read_text()
        for name, value in values.items():
            text = text.replace(f"@@{name}@@", value)
        path = self.dir / "nginx.conf"
        path.write_text(text)
        return path

    # ---------- processes ----------
    def pid(self, name: str) -> int | None:
        path = self.run / f"{name}.pid"
        try:
            pid = int(path.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def app_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
        env.update({k: v for k, v in self.values.items() if k in APP_SETTINGS and v})
        return env

    def as_service(self) -> dict:
        """Popen arguments that run a process as the service user (when started by root)."""
        if os.geteuid() != 0 or self.user == "root":
            return {}
        entry = pwd.getpwnam(self.user)
        probe = ["runuser", "-u", self.user, "--", str(PYTHON), "-c", "import django"]
        if subprocess.run(probe, cwd=ROOT, capture_output=True).returncode != 0:
            sys.exit(
                f"the service user {self.user} cannot run {PYTHON} or read {ROOT}: install Python and the "
                "checkout where that user can read them (not under /root), or set PROD_USER"
            )
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def spawn(self, name: str, argv: list[str], env: dict) -> None:
        """Starts a long-running process of the stack in its own session, as the service
        user, its output appended to log/NAME.log, its id in run/NAME.pid."""
        as_user = self.as_service()
        with open(self.log / f"{name}.log", "ab") as out:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                **as_user,
            )  # fmt: skip
        (self.run / f"{name}.pid").write_text(f"{process.pid}\n")

    def manage(self, *args: str, as_service: bool = False, **kwargs) -> subprocess.CompletedProcess:
        """A management command with the stack's settings; as the service user for an
        operator's commands, so that files it writes (photos) stay the service's."""
        if as_service:
            kwargs.update(self.as_service())
        return run([str(PYTHON), "manage.py", *args], env=self.app_env(), **kwargs)

    def start(self) -> None:
        self.configure()
        print(f"stack folder: {self.dir}")
        # An upgrade pauses the worker: it ends its current job (or is stopped, and the job
        # runs again later) before migrations change the tables under it; the new code's
        # worker starts after them.
        self.stop_process("worker", signal.SIGTERM, WORKER_STOP_SECONDS)
        self.manage("compilemessages", "--ignore=.venv", "-v0")
        self.manage("migrate", "--noinput", "-v1")
        self.manage("collectstatic", "--noinput", "--clear", "-v0")
        self.manage("check", "--deploy", "--fail-level", "WARNING")
        env = self.app_env()
        running = self.pid("gunicorn")
        if running:  # new code and settings: workers replaced one by one, no request lost
            os.kill(running, signal.SIGHUP)
        else:
            gunicorn = [str(PYTHON), "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]
            self.spawn("gunicorn", [*gunicorn, "--bind", f"unix:{self.run}/gunicorn.sock"], env)
        concurrency = self.get("JOBS_WORKER_CONCURRENCY", "2")
        self.spawn("worker", [str(PYTHON), "manage.py", "procrastinate", "worker", "--concurrency", concurrency], env)
        conf = self.nginx_conf()
        run(["nginx", "-t", "-q", "-c", str(conf)])
        if self.pid("nginx"):
            run(["nginx", "-c", str(conf), "-s", "reload"])
        else:
            run(["nginx", "-c", str(conf)])
        self.wait_ready()
        print(f"running: {self.base_url}/ (logs in {self.log})")

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            status, body = self.ask("/healthz")
            if status == 200:
                return
            if time.monotonic() > deadline:
                sys.exit(f"the stack did not answer {self.base_url}/healthz ({status}: {body}); see {self.log}")
            if not self.pid("gunicorn"):
                sys.exit(f"gunicorn stopped; see {self.log / 'gunicorn.log'}")
            time.sleep(0.3)

    def ask(self, path: str) -> tuple[int, str]:
        """GET through nginx on this machine, trusting the stack's own certificate."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # a local check of our own server, maybe self-signed
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.https_port}{path}", headers={"Host": f"{self.server_names[0]}{self.origin_port}"}
        )
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, OSError) as error:
            return 0, str(error)

    def stop_process(self, name: str, sig: signal.Signals, seconds: float) -> None:
        """Asks a process to stop after its current work; kills it after `seconds`."""
        pid = self.pid(name)
        if pid:
            os.kill(pid, sig)
            wait_gone(pid, seconds)
            print(f"{name} stopped")
        (self.run / f"{name}.pid").unlink(missing_ok=True)

    def stop(self) -> None:
        """nginx first (no new requests), then gunicorn, then the worker."""
        self.stop_process("nginx", signal.SIGQUIT, 60)
        self.stop_process("gunicorn", signal.SIGTERM, 60)
        self.stop_process("worker", signal.SIGTERM, WORKER_STOP_SECONDS)

    def status(self) -> int:
        down = 0
        for name in PROCESSES:
            pid = self.pid(name)
            print(f"{name}: {'running, pid ' + str(pid) if pid else 'stopped'}")
            down += not pid
        if self.pid("nginx") and self.pid("gunicorn"):
            status, body = self.ask("/readyz")
            print(f"{self.base_url}/readyz: {status} {body}")
            down += status != 200
        return 3 if down else 0


def group_of(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def read_env(path: Path) -> dict:
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


def run(argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, check=check, **kwargs)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"start", "stop", "status", "manage"}:
        print(__doc__, file=sys.stderr)
        return 2
    stack = Stack()
    if argv[0] == "start":
        stack.start()
    elif argv[0] == "stop":
        stack.stop()
    elif argv[0] == "status":
        return stack.status()
    else:
        stack.configure()
        return stack.manage(*argv[1:], as_service=True, check=False).returncode
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) else ""
        sys.exit(f"{detail}failed: {shlex.join(map(str, error.cmd))} (exit {error.returncode})")

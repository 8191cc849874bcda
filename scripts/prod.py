#!/usr/bin/env python3
"""The production stack on one machine: nginx (TLS, static files, photos after the app's
scope check), gunicorn and the job worker (procrastinate), with production settings, kept
running by a small supervisor.

    scripts/prod.py start [--foreground] | stop | status | manage ARGS... | systemd-unit
    (make prod, prod-stop, prod-status)

`start` is safe to run again: it keeps what it generated (secret, certificate, database
password), pauses the job worker, applies migrations, collects static files, then has the
supervisor reload gunicorn and nginx and start the new worker (or starts the supervisor).
The supervisor (`supervise`, run by `start`; `start --foreground` is it under systemd)
restarts nginx, gunicorn or the worker when one dies, after a delay that doubles while it
keeps dying. Every value comes from the environment, else from the stack's env file (what
the last start used), else a default; see README, "Production". Only the standard
library: it runs before anything else is installed.
"""

import datetime
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
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
    "DATABASE_CONNECT_TIMEOUT_SECONDS",
    "DATABASE_REPLICA_URL",
    "REPLICA_CONNECT_TIMEOUT_SECONDS",
    "REPLICA_PIN_SECONDS",
    "REPLICA_MAX_LAG_SECONDS",
    "REPLICA_RETRY_SECONDS",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY_FILE",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "SITE_URL",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_IMPORT_UPLOAD_ROOT",
    "IMPORT_UPLOAD_KEPT_HOURS",
    "IMPORT_QUOTA_BYTES",
    "IMPORT_MIN_FREE_BYTES",
    "DJANGO_BACKUP_ROOT",
    "DJANGO_STATIC_ROOT",
    "DJANGO_LOG_LEVEL",
    "MEDIA_ACCEL_REDIRECT_PREFIX",
    "TRUSTED_PROXY_COUNT",
    "SESSION_IDLE_TIMEOUT_SECONDS",
    "SESSION_ABSOLUTE_TIMEOUT_SECONDS",
    "READY_MIN_FREE_BYTES",
    "EVIDENCE_MAX_AGE_DAYS",
    "TEMPORARY_EVIDENCE_MAX_AGE_DAYS",
    "MAP_TILE_TOKEN_SECONDS",
    "JOBS_HEARTBEAT_SECONDS",
    "JOBS_STALLED_SECONDS",
    "JOBS_KEPT_DAYS",
    "JOBS_RESULT_HOURS",
    "JOBS_MAX_WAITING_PER_PERSON",
    "EXPORT_INLINE_MAX_SITES",
    "ORDER_REMINDER_DAYS_BEFORE",
    "DJANGO_EMAIL_BACKEND",
    "DJANGO_EMAIL_HOST",
    "DJANGO_EMAIL_PORT",
    "DJANGO_EMAIL_HOST_USER",
    "DJANGO_EMAIL_HOST_PASSWORD",
    "DJANGO_EMAIL_USE_TLS",
    "DJANGO_DEFAULT_FROM_EMAIL",
    "BASEMAP_URL",
    "BASEMAP_ATTRIBUTION",
    "BASEMAP_MAX_ZOOM",
    "BASEMAP_OFFLINE",
    "SURVEY_OFFLINE_ZOOMS",
    "SENTRY_DSN",
    "SENTRY_ENVIRONMENT",
    "SENTRY_RELEASE",
    "DJANGO_SECURE_HSTS_SECONDS",
    "DOCUMENT_FONT_DIR",
    "POSTGRES_BIN_DIR",
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
# Started in this order and stopped in the same one: nginx first, so no new request comes
# while the app stops.
PROCESSES = ("nginx", "gunicorn", "worker")
# A stopped worker first ends its current job; one that takes longer is killed and runs
# again from the start later (every job is all or nothing).
WORKER_STOP_SECONDS = 120
# How a process of the stack is asked to stop (nginx: finish open requests), and how
# long it has before it is killed.
STOP_SIGNALS = {"nginx": (signal.SIGQUIT, 60), "gunicorn": (signal.SIGTERM, 60), "worker": (signal.SIGTERM, 120)}
# A process that dies is started again after RESTART_FIRST seconds, doubled at each death
# up to RESTART_MOST; one that ran RESTART_STEADY seconds starts again at the first delay.
RESTART_FIRST, RESTART_MOST, RESTART_STEADY = 0.5, 30.0, 60.0
# How long `start` waits at most for the code it started to answer /healthz
# (PROD_READY_SECONDS): loading the app takes seconds on an idle machine and minutes on a
# loaded one, and a process that dies ends the wait at once, so the limit is only there
# for a start that hangs. Read from the environment of each start only, never saved: a
# longer wait asked for once must not stay for every later start.
READY_SECONDS = 600


def ready_seconds() -> float:
    return float(os.environ.get("PROD_READY_SECONDS") or READY_SECONDS)


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
        # `scripts/prod.py manage backup` writes here as the service user (the checkout is
        # not theirs to write).
        v["DJANGO_BACKUP_ROOT"] = self.get("DJANGO_BACKUP_ROOT", str(self.dir / "backups"))
        v["DJANGO_STATIC_ROOT"] = self.get("DJANGO_STATIC_ROOT", str(self.dir / "static"))
        v["DJANGO_ALLOWED_HOSTS"] = self.get("DJANGO_ALLOWED_HOSTS", ",".join(self.server_names))
        v["DJANGO_CSRF_TRUSTED_ORIGINS"] = self.get(
            "DJANGO_CSRF_TRUSTED_ORIGINS", ",".join(f"https://{n}{self.origin_port}" for n in self.server_names)
        )
        # The address links in mails, spreadsheets and documents point to: the stack's own.
        v["SITE_URL"] = self.get("SITE_URL", self.base_url)
        v["MEDIA_ACCEL_REDIRECT_PREFIX"] = MEDIA_INTERNAL
        # nginx, which appends the address it saw; one more per load balancer in front of it.
        v["TRUSTED_PROXY_COUNT"] = self.get("TRUSTED_PROXY_COUNT", "1")
        v["DJANGO_SECRET_KEY_FILE"] = str(self.secret_file())
        if not v["DATABASE_URL"]:
            v["PROD_DB_NAME"] = self.get("PROD_DB_NAME", "hazards")
            v["DATABASE_URL"] = self.local_database()
        elif v["PROD_DB_NAME"]:  # ours, made at an earlier start: it may not run after a reboot
            start_debian_cluster()
        service_folders = ("DJANGO_MEDIA_ROOT", "DJANGO_IMPORT_UPLOAD_ROOT", "DJANGO_BACKUP_ROOT")
        for folder in (*(Path(v[name]) for name in service_folders), self.run):
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
            run([tool("useradd"), "--system", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", self.user])

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
        generated password kept in the env file. The role is made here, never changed."""
        name = self.values["PROD_DB_NAME"]
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            sys.exit(f"PROD_DB_NAME must be lower-case letters, digits and _ (it is written into SQL): {name!r}")
        password = secrets.token_urlsafe(24)  # letters, digits, - and _: safe inside quotes
        start_debian_cluster()
        port = subprocess.run(
            ["pg_conftool", "-s", "15", "main", "show", "port"], capture_output=True, text=True, check=True
        ).stdout.strip()
        psql = [tool("runuser"), "-u", "postgres", "--", "psql", "-p", port, "-v", "ON_ERROR_STOP=1", "-qtA"]
        found = [*psql, "-c", f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'"]  # noqa: S608 (checked above)
        if subprocess.run(found, capture_output=True).stdout.strip():
            # Its password is another stack's (or in a lost env file): a new one would lock
            # that stack out, so the operator says which password to use.
            sys.exit(
                f"the database role {name} exists already and the stack in {self.dir} has no password for it: "
                f"start with DATABASE_URL=postgis://{name}:PASSWORD@127.0.0.1:{port}/{name} (the password in the "
                "env file of the stack that made it), or PROD_DIR set to that stack's folder, or PROD_DB_NAME "
                "set to a new name"
            )
        run([*psql, "-c", f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'"])
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

    def service_ids(self) -> dict:
        """Popen arguments that run a process as the service user (when started by root)."""
        if os.geteuid() != 0 or self.user == "root":
            return {}
        entry = pwd.getpwnam(self.user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def check_service_user(self) -> None:
        if not self.service_ids():
            return
        probe = [tool("runuser"), "-u", self.user, "--", str(PYTHON), "-c", "import django"]
        if subprocess.run(probe, cwd=ROOT, capture_output=True).returncode != 0:
            sys.exit(
                f"the service user {self.user} cannot run {PYTHON} or read {ROOT}: install Python and the "
                "checkout where that user can read them (not under /root), or set PROD_USER"
            )

    def command(self, name: str) -> tuple[list[str], dict]:
        """How the supervisor starts a process of the stack: its arguments, and whose it is."""
        if name == "nginx":  # in the foreground, so that its death is seen; workers drop to the user
            return [tool("nginx"), "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"], {}
        if name == "gunicorn":
            argv = [str(PYTHON), "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.py"]
            argv += ["--bind", f"unix:{self.run}/gunicorn.sock"]
            # The app server's size as saved in the env file (config/gunicorn.py's defaults
            # otherwise): the supervisor does not pass these to the app's environment.
            for option, name in (("--workers", "GUNICORN_WORKERS"), ("--threads", "GUNICORN_THREADS"),
                                 ("--timeout", "GUNICORN_TIMEOUT")):  # fmt: skip
                if self.get(name):
                    argv += [option, self.get(name)]
            return argv, self.service_ids()
        concurrency = self.get("JOBS_WORKER_CONCURRENCY", "2")
        return [str(PYTHON), "manage.py", "jobs_worker", "--concurrency", concurrency], self.service_ids()

    def manage(self, *args: str, as_service: bool = False, **kwargs) -> subprocess.CompletedProcess:
        """A management command with the stack's settings; as the service user for an
        operator's commands, so that files it writes (photos) stay the service's."""
        if as_service:
            self.check_service_user()
            kwargs.update(self.service_ids())
        return run([str(PYTHON), "manage.py", *args], env=self.app_env(), **kwargs)

    def start(self, foreground: bool = False) -> None:
        self.configure()
        print(f"stack folder: {self.dir}")
        self.check_service_user()
        supervisor = self.pid("supervisor")
        if supervisor and foreground:
            sys.exit(f"a supervisor already runs this stack (pid {supervisor}): `make prod-stop` first")
        # What changes no table is made while the running release still serves and runs
        # jobs (collecting static files takes minutes on a loaded machine).
        self.manage("compilemessages", "--ignore=.venv", "-v0")
        # Not --clear: until the reload below, the running code serves pages that name the
        # previous release's hashed files (and browsers keep such pages open): they stay.
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("check", "--deploy", "--fail-level", "WARNING")
        run([tool("nginx"), "-t", "-q", "-c", str(self.nginx_conf())])
        if supervisor:
            # An upgrade pauses the worker: it ends its current job (or is stopped, and the
            # job runs again later) before migrations change the tables under it; the new
            # code's worker starts after them.
            os.kill(supervisor, signal.SIGUSR1)
            self.wait_stopped("worker", WORKER_STOP_SECONDS + 30)
        else:  # left by a stack started before the supervisor existed, or whose supervisor was killed
            self.stop_unsupervised()
        self.manage("migrate", "--noinput", "-v1")
        # What the wait below reads: the supervisor's log from here on, and the app
        # workers of the code before (those must be gone before /healthz says anything).
        since, replaced = self.supervisor_log_size(), self.app_workers()
        if supervisor:  # new code and settings: gunicorn's workers replaced one by one, nginx reloaded
            os.kill(supervisor, signal.SIGHUP)
        elif foreground:
            print(f"supervising: {self.base_url}/ (logs in {self.log})", flush=True)
            Supervisor(self).run()
            return
        else:
            self.spawn_supervisor()
        self.wait_ready(since, replaced)
        print(f"running: {self.base_url}/ (logs in {self.log})")

    def spawn_supervisor(self) -> None:
        """The supervisor in its own session, reading every setting from the env file just
        written (so that a later start's changes reach the processes it restarts)."""
        env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS + STACK_SETTINGS}
        env.update(PROD_DIR=str(self.dir), PROD_PYTHON=str(PYTHON))
        with open(self.log / "supervisor.log", "ab") as out:
            process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "supervise"], cwd=ROOT, env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
            )  # fmt: skip
        (self.run / "supervisor.pid").write_text(f"{process.pid}\n")

    def wait_ready(self, since: int, replaced: set[int]) -> None:
        """Waits until the code just started answers /healthz through nginx: after a reload
        the app workers of the code before (`replaced`) are gone first, so their answer
        proves nothing. Ends at once, naming the log to read, when the supervisor stops or
        reports a process of the stack dead since `since` (its log's size before the start)."""
        seconds = ready_seconds()
        deadline = time.monotonic() + seconds
        while True:
            died = self.deaths(since)
            if died:
                name, message = died[0]
                sys.exit(f"{message} while the stack started; the end of {self.log / (name + '.log')}:\n"
                         f"{self.log_tail(name)}")  # fmt: skip
            if not self.pid("supervisor"):
                sys.exit(f"the supervisor stopped; see {self.log / 'supervisor.log'}")
            status, body = (0, "the app workers of the code before are still running")
            if not any(alive(pid) for pid in replaced):
                status, body = self.ask("/healthz")
                if status == 200:
                    return
            if time.monotonic() > deadline:
                sys.exit(
                    f"the stack did not answer {self.base_url}/healthz within {seconds:.0f} s "
                    f"(PROD_READY_SECONDS; last answer {status}: {body}); see {self.log}"
                )
            time.sleep(0.3)

    def supervisor_log_size(self) -> int:
        path = self.log / "supervisor.log"
        return path.stat().st_size if path.exists() else 0

    def deaths(self, since: int) -> list[tuple[str, str]]:
        """The processes the supervisor found dead after byte `since` of its log, with its line."""
        path = self.log / "supervisor.log"
        if not path.exists():
            return []
        with path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:  # a Python error of the supervisor itself: it stops, seen above
                continue
            if entry.get("level") == "ERROR" and entry.get("process") in PROCESSES:
                found.append((entry["process"], entry.get("message", "")))
        return found

    # Enough for the cause: gunicorn ends a failed boot with its master's own traceback
    # (about 20 lines) after each worker's, and the cause is in a worker's.
    def log_tail(self, name: str, lines: int = 100) -> str:
        path = self.log / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def app_workers(self) -> set[int]:
        """gunicorn's app workers (its master's children) now."""
        master = self.pid("gunicorn")
        if not master:
            return set()
        try:
            return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}
        except FileNotFoundError:  # it ended meanwhile
            return set()

    def wait_stopped(self, name: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.pid(name):
            if time.monotonic() > deadline:
                sys.exit(f"{name} did not stop within {seconds:.0f} s; see {self.log / 'supervisor.log'}")
            time.sleep(0.2)

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

    def stop_unsupervised(self) -> None:
        for name in PROCESSES:
            self.stop_process(name, *STOP_SIGNALS[name])

    def stop(self) -> None:
        """The supervisor stops nginx first (no new requests), then gunicorn, then the worker."""
        self.stop_process("supervisor", signal.SIGTERM, sum(seconds for _sig, seconds in STOP_SIGNALS.values()) + 30)
        self.stop_unsupervised()  # anything a killed supervisor left behind

    def status(self) -> int:
        down = 0
        for name in ("supervisor", *PROCESSES):
            pid = self.pid(name)
            print(f"{name}: {'running, pid ' + str(pid) if pid else 'stopped'}")
            down += not pid
        if self.pid("nginx") and self.pid("gunicorn"):
            status, body = self.ask("/readyz")
            print(f"{self.base_url}/readyz: {status} {body}")
            down += status != 200
        return 3 if down else 0

    def systemd_unit(self) -> str:
        """A unit that keeps the supervisor itself running across crashes and reboots."""
        return (
            "# /etc/systemd/system/hazard-registry.service, written by `scripts/prod.py systemd-unit`\n"
            "[Unit]\n"
            "Description=Hazard registry (nginx, gunicorn, job worker)\n"
            "After=network-online.target postgresql.service\n"
            "Wants=network-online.target\n\n"
            "[Service]\n"
            "Type=simple\n"
            f"Environment=PROD_DIR={self.dir} PROD_PYTHON={PYTHON}\n"
            f"WorkingDirectory={ROOT}\n"
            f"ExecStart=/usr/bin/python3 {ROOT / 'scripts' / 'prod.py'} start --foreground\n"
            # Only the supervisor gets SIGTERM: it stops nginx, gunicorn and the worker in
            # order; whatever is left after the timeout is killed.
            "KillMode=mixed\n"
            f"TimeoutStartSec=600\nTimeoutStopSec={sum(s for _sig, s in STOP_SIGNALS.values()) + 30}\n"
            "Restart=always\nRestartSec=5\n\n"
            "[Install]\nWantedBy=multi-user.target\n"
        )


class Child:
    """One supervised process and what the supervisor knows of it."""

    def __init__(self, name: str):
        self.name = name
        self.process: subprocess.Popen | None = None
        self.env: dict = {}
        self.argv: list[str] = []
        self.wanted = True  # false while paused or stopping for good
        self.planned = False  # asked to stop: started again at once if still wanted
        self.started = 0.0
        self.kill_at: float | None = None
        self.delay = RESTART_FIRST
        self.due = 0.0


class Supervisor:
    """Keeps nginx, gunicorn and the worker running: a process that dies is started again
    after a delay that doubles while it keeps dying. Signals: HUP reloads (settings read
    again, gunicorn's workers replaced, nginx reloaded, the worker started anew), USR1
    pauses the worker, TERM stops everything in order and exits."""

    TICK = 0.2

    def __init__(self, stack: Stack):
        self.stack = stack
        self.children = {name: Child(name) for name in PROCESSES}
        self.signals: list[int] = []

    def log(self, level: str, message: str, **fields) -> None:
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        line = {"time": now, "level": level, "logger": "supervisor"}
        print(json.dumps({**line, "message": message, **fields}, ensure_ascii=False), flush=True)

    def run(self) -> None:
        # Settings come from the env file from now on, so that a later start's reach the
        # processes started again.
        for name in APP_SETTINGS + STACK_SETTINGS:
            os.environ.pop(name, None)
        pid_file = self.stack.run / "supervisor.pid"
        pid_file.write_text(f"{os.getpid()}\n")
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
            signal.signal(sig, lambda number, _frame: self.signals.append(number))
        self.log("INFO", "supervisor started", pid=os.getpid())
        try:
            while True:
                while self.signals:
                    number = self.signals.pop(0)
                    if number in (signal.SIGTERM, signal.SIGINT):
                        self.shutdown()
                        return
                    if number == signal.SIGUSR1:
                        self.log("INFO", "worker paused")
                        self.children["worker"].wanted = False
                        self.ask_stop(self.children["worker"])
                    elif number == signal.SIGHUP:
                        self.reload()
                self.tend()
                time.sleep(self.TICK)
        finally:
            pid_file.unlink(missing_ok=True)
            self.log("INFO", "supervisor stopped")

    def pid_file(self, child: Child) -> Path:
        return self.stack.run / f"{child.name}.pid"

    def spawn(self, child: Child) -> None:
        argv, ids = self.stack.command(child.name)
        env = self.stack.app_env()
        try:
            with open(self.stack.log / f"{child.name}.log", "ab") as out:
                child.process = subprocess.Popen(
                    argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, **ids
                )
        except OSError as error:
            self.log("ERROR", f"{child.name} could not start: {error}", process=child.name)
            self.schedule_restart(child, ran=0.0)
            return
        child.env, child.argv, child.started, child.kill_at, child.planned = env, argv, time.monotonic(), None, False
        self.pid_file(child).write_text(f"{child.process.pid}\n")
        self.log("INFO", f"{child.name} started", process=child.name, pid=child.process.pid)

    def schedule_restart(self, child: Child, ran: float) -> None:
        if ran >= RESTART_STEADY:
            child.delay = RESTART_FIRST
        child.due = time.monotonic() + child.delay
        child.delay = min(child.delay * 2, RESTART_MOST)

    def ask_stop(self, child: Child) -> None:
        if child.process is None or child.kill_at is not None:
            return
        sig, seconds = STOP_SIGNALS[child.name]
        child.process.send_signal(sig)
        child.kill_at = time.monotonic() + seconds

    def tend(self) -> None:
        """Notices deaths, kills what overstayed a stop, starts what is wanted and due."""
        now = time.monotonic()
        for child in self.children.values():
            process = child.process
            if process is not None and process.poll() is not None:
                child.process = None
                self.pid_file(child).unlink(missing_ok=True)
                if child.kill_at is not None or not child.wanted:
                    self.log("INFO", f"{child.name} stopped", process=child.name, exit=process.returncode)
                    if child.planned:
                        child.due = now
                else:
                    self.schedule_restart(child, ran=now - child.started)
                    self.log(
                        "ERROR", f"{child.name} died (exit {process.returncode}); starting it again",
                        process=child.name, pid=process.pid, exit=process.returncode,
                        restart_in_s=round(child.due - now, 1),
                    )  # fmt: skip
                child.kill_at = None
            elif process is not None and child.kill_at is not None and now > child.kill_at:
                self.log("WARNING", f"{child.name} did not stop in time: killed", process=child.name)
                process.kill()
            if child.process is None and child.wanted and now >= child.due:
                self.spawn(child)

    def reload(self) -> None:
        self.stack = Stack()
        self.log("INFO", "reloading")
        for child in self.children.values():
            child.wanted = True
            changed = (child.env, child.argv) != (self.stack.app_env(), self.stack.command(child.name)[0])
            if child.process is None or child.kill_at is not None:
                child.planned, child.due, child.delay = True, 0.0, RESTART_FIRST
            elif child.name == "worker" or changed:
                # The worker has no graceful reload; new settings need a new process.
                child.planned = True
                self.ask_stop(child)
            else:  # new code: gunicorn replaces its workers one by one, nginx rereads its file
                child.process.send_signal(signal.SIGHUP)

    def shutdown(self) -> None:
        self.log("INFO", "stopping")
        for child in self.children.values():
            child.wanted = False
            self.ask_stop(child)
            while child.process is not None:
                self.tend()
                time.sleep(self.TICK)


def group_of(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
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


# Where root's tools are (runuser, useradd, nginx), which cron's PATH (/usr/bin:/bin) lacks.
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"


def tool(name: str) -> str:
    """A system tool by its path, found on PATH and then in the sbin folders."""
    return shutil.which(name, path=os.pathsep.join((os.environ.get("PATH", os.defpath), SBIN_PATH))) or name


def start_debian_cluster() -> None:
    """Debian's PostgreSQL cluster, where `make prod` keeps its database (quietly when it runs)."""
    run(["pg_ctlcluster", "15", "main", "start"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(argv: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, check=check, **kwargs)


def main(argv: list[str]) -> int:
    commands = {"start", "stop", "status", "manage", "supervise", "systemd-unit"}
    if not argv or argv[0] not in commands or (argv[0] == "start" and argv[1:] not in ([], ["--foreground"])):
        print(__doc__, file=sys.stderr)
        return 2
    stack = Stack()
    if argv[0] != "start" and not stack.env_file.exists():
        # Only a start makes a stack: anything else on a wrong folder (a typo, a cron line
        # without PROD_DIR) would make a new one beside the real stack.
        sys.exit(
            f"no stack in {stack.dir} (it has no env file): set PROD_DIR to the stack's folder, "
            "or make a stack there with `make prod` (scripts/prod.py start)"
        )
    if argv[0] == "start":
        stack.start(foreground=argv[1:] == ["--foreground"])
    elif argv[0] == "stop":
        stack.stop()
    elif argv[0] == "status":
        return stack.status()
    elif argv[0] == "supervise":  # started by `start`, which has configured the stack
        Supervisor(stack).run()
    elif argv[0] == "systemd-unit":
        print(stack.systemd_unit(), end="")
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

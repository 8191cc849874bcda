"""Throw-away PostgreSQL clusters for tests that need a server of their own: a primary
and a streaming replica made from it with pg_basebackup. Each listens only on a Unix
socket in its own folder; as root they run as the postgres user, as localdb.sh does."""

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

BIN = Path("/usr/lib/postgresql/15/bin")
AS_ROOT = os.geteuid() == 0
# As root the folders must be the postgres user's (PostgreSQL refuses to run as root).
BASE = Path("/var/lib/postgresql/hazard-registry") if AS_ROOT else Path(tempfile.gettempdir())


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if AS_ROOT else args


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(_as_postgres([str(a) for a in args]), check=True, capture_output=True, text=True, **kwargs)


class Cluster:
    def __init__(self, root: Path, name: str):
        self.root = root / name
        self.data = self.root / "data"
        self.socket = self.root / "run"
        self.log = self.root / "server.log"

    def url(self, database: str = "hazards") -> str:
        return f"postgis://hazards@{quote(str(self.socket), safe='')}/{database}"

    def libpq(self, database: str = "hazards") -> dict[str, str]:
        return {"PGHOST": str(self.socket), "PGUSER": "hazards", "PGDATABASE": database}

    def _configure(self, extra: str) -> None:
        settings = f"listen_addresses = ''\nunix_socket_directories = '{self.socket}'\nfsync = off\n{extra}"
        _run(["sh", "-c", f"cat >> {self.data}/postgresql.conf <<'EOF'\n{settings}\nEOF"])
        _run(["mkdir", "-p", self.socket])

    def init_primary(self) -> None:
        _run(["mkdir", "-p", self.root])
        _run([BIN / "initdb", "-D", self.data, "-U", "hazards", "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust"])
        self._configure("")

    def init_replica_of(self, primary: "Cluster", extra: str = "") -> None:
        _run(["mkdir", "-p", self.root])
        # -R writes the standby signal and the connection back to the primary; -c fast has the
        # primary checkpoint at once instead of waiting for its next one (up to 5 minutes).
        backup = ["-D", self.data, "-R", "-X", "stream", "-c", "fast"]
        _run([BIN / "pg_basebackup", "-h", primary.socket, "-U", "hazards", *backup])
        self._configure(extra)

    def start(self) -> None:
        _run([BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"])

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )

    def sql(self, statement: str, database: str = "hazards") -> str:
        result = subprocess.run(
            ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", statement],
            env={**os.environ, **self.libpq(database)},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def replays(self, primary: "Cluster", seconds: float = 60) -> None:
        """Waits until this replica has replayed everything the primary has written."""
        position = primary.sql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + seconds
        while self.sql(f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn") != "t":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica did not replay {position} within {seconds:.0f} s")
            time.sleep(0.05)  # polling, bounded by the deadline

    def server_log(self) -> str:
        return _run(["cat", self.log]).stdout


def new_root() -> Path:
    root = BASE / f"test-clusters-{uuid.uuid4().hex[:8]}"
    _run(["mkdir", "-p", root])
    return root


def remove(root: Path, *clusters: Cluster) -> None:
    for cluster in clusters:
        cluster.stop()
    if AS_ROOT:
        subprocess.run(["rm", "-rf", str(root)], check=False)
    else:
        shutil.rmtree(root, ignore_errors=True)

"""Many tablets at once (issue: operations at scale): the production stack (scripts/prod.py:
nginx with TLS, gunicorn, the job worker, production settings) on the benchmark database,
and Locust (bench/locustfile.py) playing LOAD_TABLETS tablets that each send
LOAD_RECORDS records with 2 photos while LOAD_PLANNERS planners pan the map and open
reports. Then every record sent must be stored exactly once with its photos.

The same load runs again under faults: the database restarted, a gunicorn worker killed,
the job worker killed, one after another in the middle of the run (LOAD_FAULTS); the
stack must recover by itself and still lose or duplicate nothing. Everything the load wrote is removed afterwards.
Traffic goes only to 127.0.0.1 (the locustfile refuses any other host)."""

import csv
import getpass
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from bench.users import national_user

ROOT = Path(settings.BASE_DIR)
TABLETS = int(os.environ.get("LOAD_TABLETS", 200))
RECORDS = int(os.environ.get("LOAD_RECORDS", 50))
PLANNERS = int(os.environ.get("LOAD_PLANNERS", 20))
PHOTOS_PER_RECORD = 2
NEW_SITE_SHARE = 0.2  # one record in five registers a new site, the others inspect known ones
RECORDS_PER_BATCH = 10
# Hard bounds: a run that has not finished by then is stopped and reported as failed.
RUN_LIMIT_S = int(os.environ.get("LOAD_RUN_LIMIT_S", 3600))
# The runs under faults, comma-separated; a run's faults joined by "+" strike one after
# another in that run, spread evenly over it by the share of the records stored (with
# three, at a quarter, a half and three quarters), so that the tablets are mid-sync
# whatever the run's size and the machine's speed (a fixed minute struck after the end of a
# small run, which then passed without any fault). One run with all three by default: each
# fault then meets a stack recovering from the one before, and the suite takes two runs.
FAULTS = [f for f in os.environ.get("LOAD_FAULTS", "database+gunicorn-worker+job-worker").split(",") if f]
LOAD_PREFIX = "load-"
NOTE = "load test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgis://{auth}@{quote(db['HOST'], safe='')}{':' + str(db['PORT']) if db['PORT'] else ''}/{db['NAME']}"


class Stack:
    """scripts/prod.py in a folder of its own, on free ports, over the benchmark database."""

    def __init__(self, folder: Path):
        self.folder = folder
        port = _free_port()
        self.url = f"https://127.0.0.1:{port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PROD_", "TLS_", "DATABASE_"))},
            "PROD_DIR": str(folder),
            "PROD_PYTHON": sys.executable,
            "PROD_USER": getpass.getuser(),
            "PROD_HTTPS_PORT": str(port),
            "PROD_HTTP_PORT": "0",
            "PROD_SERVER_NAMES": "127.0.0.1",
            "DATABASE_URL": _database_url(),
            "DJANGO_MEDIA_ROOT": str(folder / "media"),
        }

    def run(self, action: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "prod.py"), action],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self) -> None:
        started = self.run("start")
        if started.returncode:
            raise SystemExit(f"the production stack did not start: {started.stderr[-2000:]}")

    def pid(self, name: str) -> int | None:
        path = self.folder / "run" / f"{name}.pid"
        return int(path.read_text()) if path.exists() else None


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split()]


def _plan(folder: Path) -> dict:
    """Accounts, device tokens and every record the tablets will send, in the province
    with the most sites; written to a file the Locust processes read."""
    from accounts.models import Membership, Role, User
    from accounts.tokens import token_issue
    from areas.models import Area
    from hazards.models import Site

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, count(*) FROM hazards_site s JOIN areas_area a ON a.id = s.area_id "
            "WHERE s.deleted_at IS NULL AND s.closed_at IS NULL AND a.level = 'commune' "
            "GROUP BY a.id ORDER BY count(*) DESC LIMIT %s",
            [TABLETS],
        )
        communes = [row[0] for row in cursor.fetchall()]
    if not communes:
        raise SystemExit("no benchmark data: run `make bench-data` first")
    province = Area.objects.get(pk=communes[0]).path.strip("/").split("/")[0]
    province = Area.objects.get(code=province)
    admin = national_user()
    rng = random.Random(2026)
    now = timezone.now()
    tablets, boundaries = [], {}
    for number in range(TABLETS):
        commune = communes[number % len(communes)]
        if commune not in boundaries:
            boundaries[commune] = Area.objects.get(pk=commune).geom.prepared
        user, _ = User.objects.get_or_create(username=f"{LOAD_PREFIX}tablet-{number:03}")
        Membership.objects.get_or_create(user=user, area_id=commune, role=Role.FIELD_WORKER)
        _token, key = token_issue(actor=admin, user=user, name=f"load tablet {number}")
        known = list(
            Site.objects.filter(area_id=commune, closed_at__isnull=True).values_list("id", "location")[:RECORDS]
        )
        _keep_orders([site_id for site_id, _location in known])
        records = []
        for index in range(RECORDS):
            site_id, location = known[index % len(known)]
            lon, lat = location.x, location.y
            inspection = {
                "id": str(uuid.uuid4()),
                "inspected_at": (now - dt_minutes(rng.randint(5, 600))).isoformat(),
                "signage": rng.choice(["none", "damaged", "in_place"]),
                "barrier": rng.choice(["none", "partial", "complete"]),
                "notes": NOTE,
                "gps_fix": {"type": "Point", "coordinates": [lon, lat]},
                "gps_accuracy_m": 6,
            }
            record = {
                "inspection_id": inspection["id"],
                "photos": [str(uuid.uuid4()) for _ in range(PHOTOS_PER_RECORD)],
            }
            if index < RECORDS * NEW_SITE_SHARE:
                point = _nearby_inside(rng, lon, lat, boundaries[commune])
                inspection["gps_fix"]["coordinates"] = point
                record["site"] = {
                    "id": str(uuid.uuid4()),
                    "kind": "pond",
                    "name": f"Ao mới {number}-{index}",
                    "location": {"type": "Point", "coordinates": point},
                    "notes": NOTE,
                    "inspection": inspection,
                }
            else:
                record["inspection"] = {**inspection, "site": str(site_id)}
            records.append(record)
        tablets.append({"token": key, "records": records})
    planners = []
    for number in range(PLANNERS):
        user, _ = User.objects.get_or_create(username=f"{LOAD_PREFIX}planner-{number:02}")
        password = uuid.uuid4().hex
        user.set_password(password)
        user.is_staff = True
        user.save()
        Membership.objects.get_or_create(user=user, area=province, role=Role.AREA_MANAGER)
        planners.append({"username": user.username, "password": password})
    west, south, east, north = province.geom.extent
    tiles = [_tile_of((west + east) / 2, (south + north) / 2, z) for z in (8, 10, 12, 14)]
    plan = {
        "tablet_count": TABLETS,
        "planner_count": PLANNERS,
        "records_per_batch": RECORDS_PER_BATCH,
        "tile_token_seconds": settings.MAP_TILE_TOKEN_SECONDS,
        "tablets": tablets,
        "planners": planners,
        "tiles": tiles,
        "bbox": [west, south, min(east, west + 0.1), min(north, south + 0.1)],
    }
    path = folder / "plan.json"
    path.write_text(json.dumps(plan))
    return plan


def _nearby_inside(rng: random.Random, lon: float, lat: float, commune) -> list[float]:
    """A new pond some 20 m from a known site, inside the tablet's commune: one over its
    border is refused as outside the worker's areas (as the survey app warns before
    sending), which a run counted as a lost record. The known site's own point is inside."""
    for _try in range(20):
        point = [lon + rng.uniform(-0.0002, 0.0002), lat + rng.uniform(-0.0002, 0.0002)]
        if commune.covers(Point(*point, srid=4326)):
            return point
    return [lon, lat]


def dt_minutes(minutes: int):
    import datetime as dt

    return dt.timedelta(minutes=minutes)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _check(plan: dict, media_root: Path) -> dict:
    """Every record the tablets sent is stored once, with its photos on disk."""
    sites = [r["site"]["id"] for t in plan["tablets"] for r in t["records"] if "site" in r]
    inspections = [r["inspection_id"] for t in plan["tablets"] for r in t["records"]]
    photos = [p for t in plan["tablets"] for r in t["records"] for p in r["photos"]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM hazards_site WHERE id = ANY(%s::uuid[])", [sites])
        stored_sites = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM hazards_inspection WHERE id = ANY(%s::uuid[])", [inspections])
        stored_inspections = cursor.fetchone()[0]
        # Duplicates would be rows the load wrote beyond the ones it sent (a record stored twice
        # under another id, a photo stored twice).
        cursor.execute(
            "SELECT count(*) FROM hazards_inspection WHERE notes = %s AND NOT id = ANY(%s::uuid[])",
            [NOTE, inspections],
        )
        extra_inspections = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(DISTINCT (inspection_id, sha256)) FROM hazards_photo WHERE inspection_id = ANY(%s::uuid[])",
            [inspections],
        )
        stored_photos, distinct_photos = cursor.fetchone()
        cursor.execute("SELECT image FROM hazards_photo WHERE inspection_id = ANY(%s::uuid[])", [inspections])
        missing_files = sum(1 for (name,) in cursor.fetchall() if not (media_root / name).is_file())
    return {
        "sites": (stored_sites, len(sites)),
        "inspections": (stored_inspections, len(inspections)),
        "photos": (stored_photos, len(photos)),
        "duplicates": extra_inspections + stored_photos - distinct_photos,
        "missing_files": missing_files,
    }


# The orders of the sites the tablets inspect, as they were before: the load's inspections
# verify or reopen them as a campaign day's would, and the clean-up puts them back.
KEPT_ORDERS = "bench_load_kept_orders"
ORDER_COLUMNS = "state, acknowledged_at, done_at, verified_at, decided_by_id, reopened_count, updated_at"


def _keep_orders(site_ids: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {KEPT_ORDERS} AS SELECT * FROM hazards_remediationorder LIMIT 0")
        cursor.execute(
            f"INSERT INTO {KEPT_ORDERS} SELECT * FROM hazards_remediationorder WHERE site_id = ANY(%s)", [site_ids]
        )


def _orders_back() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [KEPT_ORDERS])
        if cursor.fetchone()[0] is None:
            return
        cursor.execute(
            f"UPDATE hazards_remediationorder o SET ({ORDER_COLUMNS}) = "
            f"(SELECT {ORDER_COLUMNS} FROM {KEPT_ORDERS} k WHERE k.id = o.id) "
            f"WHERE o.id IN (SELECT id FROM {KEPT_ORDERS})"
        )
        cursor.execute(f"DROP TABLE {KEPT_ORDERS}")


def _cleanup() -> None:
    """Remove what the load wrote: its records (the triggers keep summaries right), photos
    rows, tokens and accounts, and put back the orders its inspections decided."""
    _orders_back()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM hazards_photo WHERE inspection_id IN (SELECT id FROM hazards_inspection WHERE notes = %s)",
            [NOTE],
        )
        cursor.execute("SELECT DISTINCT site_id FROM hazards_inspection WHERE notes = %s", [NOTE])
        touched = [row[0] for row in cursor.fetchall()]
        cursor.execute("DELETE FROM hazards_inspection WHERE notes = %s", [NOTE])
        cursor.execute(
            "DELETE FROM hazards_inspection WHERE site_id IN (SELECT id FROM hazards_site WHERE notes = %s)", [NOTE]
        )
        cursor.execute("DELETE FROM hazards_site WHERE notes = %s", [NOTE])
    from accounts.models import DeviceToken, Membership, User
    from hazards.current_state import refresh_current_state

    refresh_current_state(touched)
    users = User.objects.filter(username__startswith=LOAD_PREFIX)
    DeviceToken.objects.filter(user__in=users).delete()
    Membership.objects.filter(user__in=users).delete()


def _locust(stack: Stack, plan_path: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "LOAD_PLAN": str(plan_path), "LOAD_STATS": str(out / "load-stats.json")}
    return subprocess.Popen(
        [
            sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
            "--host", stack.url, "--users", str(TABLETS + PLANNERS), "--spawn-rate", "20",
            "--run-time", f"{RUN_LIMIT_S}s", "--stop-timeout", "30", "--csv", str(out / "load"), "--only-summary",
            "--loglevel", "WARNING",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(out / "locust.log", "w"),
    )  # fmt: skip


def _stored(inspections: list[str]) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM hazards_inspection WHERE id = ANY(%s::uuid[])", [inspections])
        return cursor.fetchone()[0]


def _faults(names: list[str], stack: Stack, plan: dict, stop: threading.Event, log: list[str]) -> threading.Thread:
    inspections = [r["inspection_id"] for t in plan["tablets"] for r in t["records"]]

    def inject():
        for number, name in enumerate(names, start=1):
            try:
                while _stored(inspections) < number / (len(names) + 1) * len(inspections):
                    if stop.wait(1):
                        return
            finally:
                connection.close()  # this thread's own session; the database may restart next
            _strike(name, stack, log)

    thread = threading.Thread(target=inject, daemon=True)
    thread.start()
    return thread


def _strike(name: str, stack: Stack, log: list[str]) -> None:
    if name == "database":
        base = Path(connection.settings_dict["HOST"]).parent  # scripts/localdb.sh's cluster
        command = [
            "/usr/lib/postgresql/15/bin/pg_ctl", "-D", str(base / "data"), "-l", str(base / "server.log"),
            "-m", "fast", "-w", "restart",
        ]  # fmt: skip
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        # The restarted server writes to its log, not to a pipe of ours (waiting for the
        # pipe's end would wait for the server's), and outlives this process's group.
        started = time.monotonic()
        result = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, check=False
        )
        log.append(f"database restarted in {time.monotonic() - started:.1f} s, pg_ctl exit {result.returncode}")
    elif name == "gunicorn-worker":
        workers = _children(stack.pid("gunicorn") or 0)
        if workers:  # no line otherwise: the run then fails, the fault never struck
            os.kill(workers[0], signal.SIGKILL)
            log.append(f"gunicorn worker {workers[0]} killed")
    elif name == "job-worker":
        pid = stack.pid("worker")
        if pid:
            os.kill(pid, signal.SIGKILL)
            log.append(f"job worker {pid} killed")


def _stats(out: Path) -> dict[str, dict]:
    with (out / "load_stats.csv").open() as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def _one_run(Result, fault: str | None) -> list:
    with tempfile.TemporaryDirectory(prefix="bench-load-", dir=ROOT / "bench") as tmp:
        folder = Path(tmp)
        stack = Stack(folder / "stack")
        _cleanup()
        plan = _plan(folder)
        stack.start()
        log: list[str] = []
        stop = threading.Event()
        started = time.monotonic()
        locust = _locust(stack, folder / "plan.json", folder)
        if fault:
            _faults(fault.split("+"), stack, plan, stop, log)
        try:
            locust.wait(RUN_LIMIT_S + 120)
        finally:
            stop.set()
        took = time.monotonic() - started
        connection.close()  # a restarted database ended this process's session too
        recovered = stack.run("status").returncode == 0
        stats = _stats(folder)
        extra = json.loads((folder / "load-stats.json").read_text())
        check = _check(plan, folder / "stack" / "media")
        stack.run("stop")
        _cleanup()
        # Locust's figures, failures and log, and the stack's logs, kept for reading afterwards.
        kept = ROOT / "bench" / "out" / f"load-{fault or 'no-fault'}"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(folder, kept, ignore=shutil.ignore_patterns("media", "static", "plan.json", "*.pem", "*.key"))
    records = TABLETS * RECORDS
    aggregated = stats.get("Aggregated", {})
    failures = int(aggregated.get("Failure Count", 0))
    whole = (
        check["sites"][0] == check["sites"][1]
        and check["inspections"][0] == check["inspections"][1]
        and check["photos"][0] == check["photos"][1]
        and not check["duplicates"]
        and not check["missing_files"]
    )

    def pct(name: str, p: str) -> str:
        row = stats.get(name)
        return f"{float(row[p]):.0f}" if row and row.get(p) not in (None, "", "N/A") else "–"

    batch, photo = "sync batch", "photo upload"
    tile_names = [n for n in stats if n.startswith("tile z")]
    tile_p95 = max((float(stats[n]["95%"]) for n in tile_names), default=0)
    retried = ", ".join(f"{code} x{n}" for code, n in sorted(extra["retried"].items())) or "none"
    struck = fault is None or len(log) == len(fault.split("+"))
    label = f"under faults one after another: {'; '.join(log) or 'none struck'}" if fault else "no fault"
    name = (
        f"load, {label}: {TABLETS} tablets x {RECORDS} records x {PHOTOS_PER_RECORD} photos, {PLANNERS} planners; "
        f"{records / took:.1f} records/s, {float(aggregated.get('Requests/s', 0)):.1f} requests/s over {took:.0f} s; "
        f"batch p50/p95/p99 {pct(batch, '50%')}/{pct(batch, '95%')}/{pct(batch, '99%')} ms, "
        f"photo {pct(photo, '50%')}/{pct(photo, '95%')}/{pct(photo, '99%')} ms, "
        f"tile p95 {tile_p95:.0f} ms, report p95 {pct('report page', '95%')} ms; "
        f"{failures} errors, retried answers {retried}, {extra['refused']} refused; "
        f"stored {check['sites'][0]}/{check['sites'][1]} sites, {check['inspections'][0]}/{check['inspections'][1]} "
        f"inspections, {check['photos'][0]}/{check['photos'][1]} photos, {check['duplicates']} duplicates, "
        f"{check['missing_files']} photo files missing; stack {'up' if recovered else 'DOWN'} afterwards"
    )
    passed = whole and failures == 0 and extra["refused"] == 0 and recovered and struck
    batch_row = stats.get(batch, {})
    return [
        Result(
            name,
            float(batch_row.get("50%") or 0),
            float(batch_row.get("95%") or 0),
            "–",
            None,
            "no error, nothing lost or duplicated" + (", recovers by itself" if fault else ""),
            passed,
        )
    ]


def run(*, timed, p95, psql_ms, Result):
    results = _one_run(Result, None)
    for fault in FAULTS:
        results += _one_run(Result, fault)
    return results

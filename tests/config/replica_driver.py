"""Plays a planner and a field worker against an app whose settings name a read replica
(DATABASE_URL and DATABASE_REPLICA_URL in the environment), and prints what each saw as
JSON. Run by tests/config/test_replicas.py in a process of its own, since the settings read
those variables once.

    python -m tests.config.replica_driver seed|paused|past-report|replica-down|cut-off|replay-behind|gis-client|forged-pin|socket-options
"""

import datetime as dt
import json
import logging
import os
import sys
import time

import django

PAST_YEAR = {"area": "99", "kind": "year", "year": dt.date.today().year - 1}


def _until(done, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(0.05)  # polling, bounded by the deadline


def _replica_sql(statement: str):
    """The first column of the first row a statement gives on the replica."""
    from django.db import connections

    with connections["replica1"].cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchone()[0] if cursor.description else None


def _primary_reaches_replica() -> None:
    """Waits until the replica has replayed everything the primary has written."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        position = cursor.fetchone()[0]
    with connections["replica1"].cursor() as cursor:

        def replayed() -> bool:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
            return cursor.fetchone()[0]

        _until(replayed, "the replica catching up")


def _recording() -> list[str]:
    """What config.replicas warns from now on: why it sets a replica aside."""
    said = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: said.append(record.getMessage())
    logging.getLogger("config.replicas").addHandler(handler)
    return said


def _set_aside(client) -> list[str]:
    return client.get("/readyz").json()["replicas_set_aside"]


def _set_aside_after_reading(client, point) -> list[str]:
    """The replicas set aside once the map's list has been read (a read checks them)."""
    _site_names(client, point)
    return _set_aside(client)


def _site_names(client, point) -> list[str]:
    bbox = f"{point.x - 0.05},{point.y - 0.05},{point.x + 0.05},{point.y + 0.05}"
    answer = client.get("/map/sites.json", {"bbox": bbox})
    assert answer.status_code == 200, answer.content
    return sorted(s["name"] for s in answer.json()["sites"])


def _tile(client, point):
    from tests.mapping.tiles_helpers import tile_of

    z, x, y = tile_of(point.x, point.y, 14)
    return client.get(f"/tiles/sites/{z}/{x}/{y}.pbf")


def _tile_status(client, point) -> int:
    return _tile(client, point).status_code


def _tile_sites(client, point) -> list[str]:
    import mapbox_vector_tile

    from tests.mapping.tiles_helpers import site_codes

    return sorted(site_codes(mapbox_vector_tile.decode(_tile(client, point).content)))


def seed() -> dict:
    from django.contrib.auth import get_user_model

    from areas.loader import load_boundaries
    from areas.models import Area
    from hazards import services
    from tests.conftest import DEMO_FILES, inside

    load_boundaries(DEMO_FILES)
    commune = Area.objects.get(code="99101")
    root = get_user_model().objects.create_superuser("root", password="pw-Secret-123")
    services.site_register(actor=root, kind="pond", name="Ao cũ", location=inside(commune))
    _primary_reaches_replica()
    return {"seeded": True}


def paused() -> dict:
    """The replica's replay is paused: what the map reads from it is behind the primary."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from areas.models import Area
    from hazards import services
    from reports.models import AsOfResult
    from tests.conftest import inside

    root = get_user_model().objects.get(username="root")
    commune = Area.objects.get(code="99101")
    point = inside(commune)
    _replica_sql("SELECT pg_wal_replay_pause()")
    services.site_register(actor=root, kind="pond", name="Ao mới", location=point)

    planner = Client(HTTP_ACCEPT_LANGUAGE="en")
    planner.force_login(root)
    seen = {"map_lagging": _site_names(planner, point)}
    answer = planner.get("/api/v1/sites/", {"area": commune.code})
    seen["api"] = sorted(f["properties"]["name"] for f in answer.json()["features"])
    seen["tile"] = _tile_status(planner, point)
    answer = planner.get("/ogc/collections/sites/items", {"limit": 50})
    seen["ogc"] = sorted(f["properties"]["name"] for f in answer.json()["features"])
    seen["past_report"] = planner.get("/reports/", PAST_YEAR).status_code
    seen["past_report_kept"] = AsOfResult.objects.count()

    writer = Client(HTTP_ACCEPT_LANGUAGE="en")
    writer.force_login(root)
    writer.post("/i18n/setlang/", {"language": "en"})  # any write pins its reads
    seen["map_after_write"] = _site_names(writer, point)

    _replica_sql("SELECT pg_wal_replay_resume()")
    _primary_reaches_replica()
    seen["map_caught_up"] = _site_names(planner, point)
    return seen


def past_report() -> dict:
    """A past report whose numbers are not cached, read with the replica caught up."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from reports.models import AsOfResult

    AsOfResult.objects.all().delete()  # as a late record would
    _primary_reaches_replica()
    planner = Client(HTTP_ACCEPT_LANGUAGE="en")
    planner.force_login(get_user_model().objects.get(username="root"))
    _primary_reaches_replica()  # the sign-in wrote a session
    return {"status": planner.get("/reports/", PAST_YEAR).status_code, "kept": AsOfResult.objects.count()}


def replica_down() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from areas.models import Area
    from tests.conftest import inside

    said = _recording()
    planner = Client(HTTP_ACCEPT_LANGUAGE="en")
    planner.force_login(get_user_model().objects.get(username="root"))
    point = inside(Area.objects.get(code="99101"))
    seen = {"map": _site_names(planner, point), "tile": _tile_status(planner, point)}
    seen["areas"] = planner.get("/map/areas.json").status_code
    seen["set_aside"] = _set_aside(planner)
    seen["why"] = said
    return seen


def cut_off() -> dict:
    """The replica loses the primary (its WAL receiver cannot connect: a network cut, a wrong
    primary_conninfo, a primary that moved) and a commune then moves to another district on
    the primary. The replica, which has replayed all it received, still has the commune in
    the old district: that district's manager must not read its sites there. Then the
    replica follows the primary again, and its reads come back."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import Membership, Role
    from areas.models import Area
    from areas.tree import refresh_paths
    from tests.conftest import inside

    manager = get_user_model().objects.create_user("lan", password="pw-Secret-123")
    Membership.objects.create(user=manager, area=Area.objects.get(code="991"), role=Role.AREA_MANAGER)
    commune = Area.objects.get(code="99101")
    point = inside(commune)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(manager)
    seen = {"before": {"map": _site_names(browser, point), "tile": _tile_sites(browser, point)}}

    said = _recording()
    reconnect = _replica_sql(
        "SELECT format('ALTER SYSTEM SET primary_conninfo = %L', current_setting('primary_conninfo'))"
    )
    _replica_sql("ALTER SYSTEM SET primary_conninfo = 'host=/nonexistent user=hazards'")
    _replica_sql("SELECT pg_reload_conf()")
    _until(lambda: not _replica_sql("SELECT count(*) FROM pg_stat_wal_receiver"), "the WAL receiver stopping")
    commune.parent = Area.objects.get(code="992")
    commune.save(update_fields=["parent"])
    refresh_paths()
    replica_district = Area.objects.using("replica1").filter(code="99101").values_list("parent__code", flat=True)
    seen["replica_district"] = replica_district.get()
    _replica_sql("SELECT 'cut off'")  # marks the replica's statement log for the test
    seen["cut_off"] = {"map": _site_names(browser, point), "tile": _tile_sites(browser, point)}
    seen["cut_off"]["set_aside"] = _set_aside(browser)
    seen["why"] = said

    _replica_sql("SELECT 'reconnecting'")
    _replica_sql(reconnect)
    _replica_sql("SELECT pg_reload_conf()")
    _primary_reaches_replica()
    _until(lambda: not _set_aside_after_reading(browser, point), "the replica coming back")
    seen["following_again"] = {"map": _site_names(browser, point), "set_aside": _set_aside(browser)}
    return seen


def replay_behind() -> dict:
    """The replica receives the primary's writes but does not replay them (replay paused; a
    long conflict or an overloaded replica does the same): it is read while it lacks what
    the primary held less than REPLICA_MAX_LAG_SECONDS ago, set aside once it lacks more,
    and read again once it has caught up."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from areas.models import Area
    from hazards import services
    from tests.conftest import inside

    root = get_user_model().objects.get(username="root")
    point = inside(Area.objects.get(code="99102"))
    planner = Client(HTTP_ACCEPT_LANGUAGE="en")
    planner.force_login(root)
    _primary_reaches_replica()
    said = _recording()
    _replica_sql("SELECT pg_wal_replay_pause()")
    services.site_register(actor=root, kind="pond", name="Ao sau", location=point)
    written = time.monotonic()
    seen = {"at_once": {"new_site": "Ao sau" in _site_names(planner, point), "set_aside": _set_aside(planner)}}
    _until(lambda: _set_aside_after_reading(planner, point), "the replica being set aside")
    seen["set_aside_after_max_lag"] = time.monotonic() - written > settings.REPLICA_MAX_LAG_SECONDS
    seen["set_aside"] = {"new_site": "Ao sau" in _site_names(planner, point), "set_aside": _set_aside(planner)}
    seen["why"] = said
    _replica_sql("SELECT pg_wal_replay_resume()")
    _primary_reaches_replica()
    _until(lambda: not _set_aside_after_reading(planner, point), "the replica coming back")
    return seen


def forged_pin() -> dict:
    """The cookie that sends a client's reads to the primary, forged: not a time it wrote."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from areas.models import Area
    from config.replicas import PIN_COOKIE
    from tests.conftest import inside

    point = inside(Area.objects.get(code="99101"))
    seen = {}
    for value in ("²", "9" * 5000, "-1", "abc"):
        planner = Client(HTTP_ACCEPT_LANGUAGE="en")
        planner.force_login(get_user_model().objects.get(username="root"))
        planner.cookies[PIN_COOKIE] = value
        bbox = f"{point.x - 0.05},{point.y - 0.05},{point.x + 0.05},{point.y + 0.05}"
        seen[value[:8]] = planner.get("/map/sites.json", {"bbox": bbox}).status_code
    return seen


def gis_client() -> dict:
    """QGIS (Basic: user name and device token) while the replica's replay is paused: a
    revoked token and a deactivated person are written to the primary only, and stop it
    at once all the same (accounts are read where they are written)."""
    import base64

    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import Membership, Role
    from accounts.services import user_deactivate
    from accounts.tokens import token_issue, token_revoke
    from areas.models import Area
    from tests.conftest import inside

    root = get_user_model().objects.get(username="root")
    person = get_user_model().objects.create_user("huyen", password="pw-Secret-123")
    Membership.objects.create(user=person, area=Area.objects.get(code="991"), role=Role.AREA_MANAGER)
    (first, first_key), (_second, second_key) = (token_issue(actor=root, user=person, name=n) for n in ("QGIS", "GDAL"))
    point = inside(Area.objects.get(code="99101"))
    _primary_reaches_replica()

    def reads(key: str) -> list[int]:
        credential = base64.b64encode(f"huyen:{key}".encode()).decode()
        qgis = Client(HTTP_ACCEPT_LANGUAGE="en", headers={"Authorization": f"Basic {credential}"})
        return [_tile_status(qgis, point), qgis.get("/ogc/collections/sites/items").status_code]

    _replica_sql("SELECT pg_wal_replay_pause()")
    seen = {"before": reads(first_key)}
    token_revoke(actor=root, token=first)
    seen["revoked"], seen["other_token"] = reads(first_key), reads(second_key)
    user_deactivate(actor=root, user=person)
    seen["deactivated"] = reads(second_key)
    _replica_sql("SELECT pg_wal_replay_resume()")
    _primary_reaches_replica()
    return seen


def socket_options() -> dict:
    """The TCP options of the app's connection to the replica, as the kernel holds them."""
    import socket

    from django.db import connections

    replica = connections["replica1"]
    replica.ensure_connection()
    held = socket.socket(fileno=os.dup(replica.connection.fileno()))
    try:
        return {
            "keepalive": held.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            "idle": held.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            "interval": held.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            "count": held.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            "unacknowledged_ms": held.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
        }
    finally:
        held.close()  # a copy of the descriptor: the connection's own stays open


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, as pytest-django sets it up
    steps = {
        "seed": seed,
        "paused": paused,
        "past-report": past_report,
        "replica-down": replica_down,
        "cut-off": cut_off,
        "replay-behind": replay_behind,
        "gis-client": gis_client,
        "forged-pin": forged_pin,
        "socket-options": socket_options,
    }
    print(json.dumps(steps[sys.argv[1]]()))

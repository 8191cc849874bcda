"""Read replicas, with a real one: a throw-away primary and a streaming replica made from
it by pg_basebackup (tests/pgcluster.py). The app runs in processes of its own
(tests/config/replica_driver.py) whose settings name the replica, as production's would."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.urls import get_resolver

from tests import pgcluster

MANAGE = [sys.executable, str(settings.BASE_DIR / "manage.py")]


def test_every_route_named_as_lagging_exists():
    names = {name for name in get_resolver().reverse_dict if isinstance(name, str)}
    assert names >= settings.LAGGING_READ_VIEWS


@pytest.fixture(scope="module")
def clusters():
    root = pgcluster.new_root()
    primary = pgcluster.Cluster(root, "primary")
    replica = pgcluster.Cluster(root, "replica")
    try:
        primary.init_primary()
        primary.start()
        primary.sql("CREATE DATABASE hazards", database="postgres")
        env = {**os.environ, "DATABASE_URL": primary.url(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        subprocess.run([*MANAGE, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)
        # Every statement the replica runs goes to its log, to see which reads reached it;
        # an idle primary is asked for a message every second (README: wal_receiver_timeout
        # at most REPLICA_MAX_LAG_SECONDS, which a test lowers to 3).
        replica.init_replica_of(primary, extra="log_statement = 'all'\nwal_receiver_timeout = '2s'")
        replica.start()
        drive("seed", primary, replica)
        yield primary, replica
    finally:
        pgcluster.remove(root, replica, primary)


def drive(step: str, primary, replica, replica_url: str | None = None, **settings_env: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": primary.url(),
        "DATABASE_REPLICA_URL": replica_url or replica.url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REPLICA_RETRY_SECONDS": "1",
        **settings_env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.config.replica_driver", step],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,  # a step that hangs fails instead of stalling the suite
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_lagging_reads_reach_the_replica_writes_and_fresh_reads_the_primary(clusters):
    primary, replica = clusters
    seen = drive("paused", primary, replica)
    # With its replay paused the replica lacks the new site: the map's list came from it…
    assert seen["map_lagging"] == ["Ao cũ"]
    assert seen["tile"] == 200
    assert seen["ogc"] == ["Ao cũ"]
    # …while the API, which a tablet reads right after syncing, reads the primary,
    assert seen["api"] == ["Ao cũ", "Ao mới"]
    # and a client that has just written reads its own write.
    assert seen["map_after_write"] == ["Ao cũ", "Ao mới"]
    assert seen["map_caught_up"] == ["Ao cũ", "Ao mới"]
    # A past period's numbers are kept in a cache, so they are read where every write is:
    # the primary while the replica is behind…
    assert seen["past_report"] == 200
    assert seen["past_report_kept"] > 0
    log = replica.server_log()
    assert "child_code" not in log
    # …the replica once it has caught up.
    assert drive("past-report", primary, replica) == {"status": 200, "kept": seen["past_report_kept"]}
    assert "child_code" in replica.server_log()
    assert "WITH tile AS" in log  # the tile
    assert "hazards_site" in log  # the map's list
    # The replica refuses writes; none was even tried on it.
    for verb in ("INSERT INTO", "UPDATE ", "DELETE FROM"):
        assert verb not in log
    # Sessions and accounts are read where they are written.
    assert "django_session" not in log
    assert "accounts_membership" not in log


def test_qgis_is_stopped_at_once_while_the_replica_lags(clusters):
    """Tiles and OGC items are read on the replica; the device token and the person on the
    primary, so revoking or deactivating is not waited for on a replica behind."""
    primary, replica = clusters
    seen = drive("gis-client", primary, replica)
    assert seen == {"before": [200, 200], "revoked": [401, 401], "other_token": [200, 200], "deactivated": [401, 401]}
    assert "accounts_devicetoken" not in replica.server_log()


def test_the_app_keeps_working_while_the_replica_is_down(clusters):
    primary, replica = clusters
    replica.stop()
    try:
        seen = drive("replica-down", primary, replica)
    finally:
        replica.start()
    assert "Ao cũ" in seen["map"]
    assert seen["tile"] == 200
    assert seen["set_aside"] == ["replica1"]


@pytest.fixture
def black_hole():
    """A replica host that accepts connections and never answers (a frozen machine, a
    network black hole): a listening socket whose thread accepts and keeps them silent."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # the listener closed: the test is over
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgis://hazards@127.0.0.1:{listener.getsockname()[1]}/hazards"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the thread's accept()
        listener.close()
        for connection in held:
            connection.close()
        thread.join()


def test_a_replica_that_never_answers_is_set_aside(clusters, black_hole):
    primary, replica = clusters
    seen = drive("replica-down", primary, replica, replica_url=black_hole)
    assert "Ao cũ" in seen["map"]
    assert seen["tile"] == 200
    assert seen["areas"] == 200
    assert seen["set_aside"] == ["replica1"]


@pytest.fixture
def replica_over_tcp(clusters):
    """The replica reached over TCP, as a replica on another machine is: a port on this
    machine whose threads carry each connection to the replica's socket and back."""
    _primary, replica = clusters
    listener = socket.create_server(("127.0.0.1", 0))
    sockets = []

    def carry(source, target):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def accept():
        while True:
            try:
                client = listener.accept()[0]
            except OSError:  # the listener closed: the test is over
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(str(next(replica.socket.glob(".s.PGSQL.*"))))
            sockets.extend([client, server])
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=carry, args=(source, target), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgis://hazards@127.0.0.1:{listener.getsockname()[1]}/hazards"
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for end in sockets:
            end.close()
        thread.join()


def test_a_database_host_that_dies_mid_query_is_given_up_within_30_seconds(clusters, replica_over_tcp):
    """Without keepalives TCP waits two hours for a host that died or was cut off during
    a query: a job on the worker, which no gunicorn timeout ends, hung that long. The
    kernel gives up on a connection whose probes go unanswered after 10 + 3 x 5 s, or
    whose data stays unacknowledged for 30 s (a live server's kernel answers both)."""
    primary, replica = clusters
    assert drive("socket-options", primary, replica, replica_url=replica_over_tcp) == {
        "keepalive": 1,
        "idle": 10,
        "interval": 5,
        "count": 3,
        "unacknowledged_ms": 30_000,
    }


def test_a_forged_primary_reads_cookie_is_taken_for_none(clusters):
    """pentest 5 (C): "²" passed isdigit() and then failed int(), a 500 for its sender."""
    primary, replica = clusters
    assert drive("forged-pin", primary, replica) == {"²": 200, "99999999": 200, "-1": 200, "abc": 200}


def test_a_replica_cut_off_from_the_primary_is_set_aside_until_it_follows_again(clusters):
    """Pentest 6: a replica whose WAL receiver has lost the primary has replayed all it
    received, so it reported no lag for ever and served ever older data: a commune moved to
    another district on the primary stayed in the old one there, and that district's
    manager read its sites on the map and its tiles."""
    primary, replica = clusters
    seen = drive("cut-off", primary, replica)
    assert "Ao cũ" in seen["before"]["map"]
    assert seen["before"]["tile"]
    assert seen["replica_district"] == "991"  # the replica has not seen the move
    assert seen["cut_off"] == {"map": [], "tile": [], "set_aside": ["replica1"]}
    assert any("WAL receiver" in why for why in seen["why"]), seen["why"]
    assert seen["following_again"] == {"map": [], "set_aside": []}
    log = replica.server_log()
    cut_off, following_again = log.split("SELECT 'cut off'", 1)[1].split("SELECT 'reconnecting'", 1)
    assert "hazards_site" in log.split("SELECT 'cut off'", 1)[0]  # read there before the cut
    assert "hazards_site" not in cut_off
    assert "WITH tile AS" not in cut_off
    assert "hazards_site" in following_again


def test_a_replica_that_does_not_replay_is_set_aside_once_it_lags_more_than_allowed(clusters):
    """Receiving all the primary sends and replaying none of it: read while what it lacks
    is younger than REPLICA_MAX_LAG_SECONDS, set aside after, read again once caught up."""
    primary, replica = clusters
    seen = drive("replay-behind", primary, replica, REPLICA_MAX_LAG_SECONDS="3")
    assert seen["at_once"] == {"new_site": False, "set_aside": []}
    assert seen["set_aside_after_max_lag"]
    assert seen["set_aside"] == {"new_site": True, "set_aside": ["replica1"]}
    assert any("primary held" in why for why in seen["why"]), seen["why"]


def test_a_replica_whose_role_cannot_see_its_wal_receiver_is_set_aside(clusters):
    """Without pg_read_all_stats a role sees that a WAL receiver runs, but neither whether
    it streams nor when the primary last spoke: such a replica cannot show that it follows
    the primary and is set aside. Given that role (README), it is read."""
    primary, replica = clusters
    primary.sql("CREATE ROLE watcher LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO watcher")
    replica.replays(primary)
    as_watcher = replica.url().replace("//hazards@", "//watcher@", 1)
    seen = drive("replica-down", primary, replica, replica_url=as_watcher)
    assert seen["set_aside"] == ["replica1"]
    assert any("pg_read_all_stats" in why for why in seen["why"]), seen["why"]
    primary.sql("GRANT pg_read_all_stats TO watcher")
    replica.replays(primary)
    seen = drive("replica-down", primary, replica, replica_url=as_watcher)
    assert "Ao cũ" in seen["map"]
    assert (seen["set_aside"], seen["why"]) == ([], [])

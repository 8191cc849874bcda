"""Imports outside any enclosing transaction, as the command and the import page run
them: each chunk is staged on a connection of the read-ahead thread while the caller's
connection writes the registry. Committed data here (transaction=True): the staging
connection sees only what is committed."""

import threading
import time

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import AuditEntry, Role
from hazards import import_load, imports, services
from hazards.models import Inspection, Site
from tests.conftest import inside
from tests.hazards.test_imports import grid_and_summary, rebuilt_grid_and_summary, run, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def officer(demo_tree, make_user):
    return make_user("nam", demo_tree["991"], Role.AREA_MANAGER)


@pytest.fixture
def staging_threads(monkeypatch):
    """The names of the threads that staged, and the connections they staged on."""
    seen = []
    made = import_load.ImportStaging.__init__

    def recording(self, *args):
        seen.append((threading.current_thread().name, id(connection.connection)))
        made(self, *args)

    monkeypatch.setattr(import_load.ImportStaging, "__init__", recording)
    return seen


def staging_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'import\\_staged\\_%%'")
        return [name for (name,) in cursor.fetchall()]


def test_chunks_staged_apart_give_the_registry_the_same_sites(
    tmp_path, demo_tree, officer, staging_threads, monkeypatch
):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    p, q = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    header = ["id", "name", "kind", "latitude", "longitude", "signage", "barrier", "date"]
    first = "0b5c8a52-5f4e-4c39-9a59-6a3d1f0e7c11"
    rows = [[first, "Ao một", "ao", p.y, p.x, "có", "đầy đủ", "2026-05-02"], ["", "Hồ hai", "hồ", q.y, q.x, "", "", ""]]
    rows += [[first, "Ao một (lần hai)", "giếng", q.y, q.x, "", "", ""], ["", "Đập ba", "đập", p.y, p.x, "", "", ""]]
    rows += [["", "Giếng bốn", "giếng", q.y, q.x, "hỏng", "một phần", "2026-05-03"]]
    path = write_csv(tmp_path / "list.csv", header, rows)
    run(path)

    [(thread, staged_on)] = staging_threads
    assert thread == "read-ahead" and staged_on != id(connection.connection)
    sites = list(Site.objects.order_by("code").values_list("name", "kind", "area__code", "import_row"))
    assert sites == [
        ("Ao một", "pond", "99101", 2),
        ("Hồ hai", "lake", "99102", 3),
        ("Đập ba", "dam", "99101", 5),
        ("Giếng bốn", "well", "99102", 6),
    ]
    assert sorted(Inspection.objects.values_list("site__name", "signage", "barrier")) == [
        ("Ao một", "in_place", "complete"),
        ("Giếng bốn", "damaged", "partial"),
    ]
    assert AuditEntry.objects.get(table="hazards_site").changes["sites_added"] == 4
    assert grid_and_summary() == rebuilt_grid_and_summary()
    assert staging_tables() == []

    run(path)
    assert Site.objects.count() == 4 and Inspection.objects.count() == 2
    assert staging_tables() == []


def test_a_bad_row_in_a_later_chunk_stores_nothing_when_staged_apart(
    tmp_path, demo_tree, officer, staging_threads, monkeypatch
):
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    mine, theirs = inside(demo_tree["99101"]), inside(demo_tree["992"])
    header = ["name", "kind", "latitude", "longitude"]
    rows = [["Ao một", "ao", mine.y, mine.x], ["Ao hai", "ao", mine.y + 0.0001, mine.x]]
    rows += [["Ao ba", "ao", mine.y + 0.0002, mine.x], ["Ao xã khác", "ao", theirs.y, theirs.x]]
    rows += [["Ao ngoài", "ao", 10.5, 106.7]]
    with pytest.raises(CommandError) as error:
        run(write_csv(tmp_path / "bad.csv", header, rows))
    message = str(error.value)
    assert "row 5: This location is in" in message and "outside the areas you work in" in message
    assert "row 6: " in message and "row 2:" not in message
    assert [thread for thread, _connection in staging_threads] == ["read-ahead"]
    assert not Site.objects.exists() and not AuditEntry.objects.filter(table="hazards_site").exists()
    assert staging_tables() == []


def test_a_staging_table_left_by_a_crash_is_dropped_a_day_later(tmp_path, demo_tree, officer):
    old = f"import_staged_{int(time.time()) - 2 * 24 * 3600}_0123456789ab"
    recent = f"import_staged_{int(time.time()) - 60}_0123456789ab"
    with connection.cursor() as cursor:
        for name in (old, recent):
            cursor.execute(f"CREATE UNLOGGED TABLE {name} (chunk integer)")
    p = inside(demo_tree["99101"])
    run(write_csv(tmp_path / "one.csv", ["name", "kind", "latitude", "longitude"], [["Ao", "ao", p.y, p.x]]))
    assert staging_tables() == [recent]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {recent}")


def test_rows_near_a_site_or_an_earlier_row_of_the_file_are_listed_across_chunks(
    tmp_path, demo_tree, officer, superuser, monkeypatch, capsys
):
    """The survey app's 30 m rule, checked per chunk while the earlier chunks' rows sit
    uncommitted in the site index: a row near a site of the registry, and a row near a
    row of an earlier chunk, each named by its row."""
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    p, q = inside(demo_tree["99101"]), inside(demo_tree["99102"])
    pond = services.site_register(actor=superuser, name="Ao cũ", kind="pond", location=p)
    metre = 1 / 111_000  # of latitude
    rows = [
        ["Ao mới", "ao", p.y + 10 * metre, p.x],  # row 2: 10 m from the registry's pond
        ["Giếng A", "giếng", q.y, q.x],  # row 3
        ["Giếng B", "giếng", q.y + 5 * metre, q.x],  # row 4, the next chunk: 5 m from row 3
        ["Ao xa", "ao", p.y + 45 * metre, p.x],  # row 5: beyond 30 m of the pond
        ["Đập", "đập", q.y, q.x],  # row 6: another kind
    ]
    run(write_csv(tmp_path / "gan.csv", ["name", "kind", "latitude", "longitude"], rows))
    notices = capsys.readouterr().err.splitlines()
    near = [line for line in notices if "a duplicate?" in line]
    assert near == [
        f"row 2: 10 m from {pond.code} “Ao cũ”, a site of the same kind already in the registry: a duplicate?",
        "row 4: 5 m from row 3 “Giếng A” of this file, of the same kind: a duplicate?",
    ]
    assert Site.objects.count() == 6


def test_a_file_of_rows_packed_together_is_checked_whole_and_lists_the_first(
    tmp_path, demo_tree, officer, monkeypatch, capsys
):
    """Rows copied down one place (the kill test's file, smaller): every chunk is checked
    (nothing given up) and the first rows found are listed, up to the list's length."""
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 1000)
    point = inside(demo_tree["99101"])
    rows = [[f"Ao {n}", "ao", point.y + (n % 40) * 1e-5, point.x + (n // 40) * 1e-5] for n in range(3000)]
    run(write_csv(tmp_path / "day.csv", ["name", "kind", "latitude", "longitude"], rows))
    near = [line for line in capsys.readouterr().err.splitlines() if "a duplicate?" in line]
    assert len(near) == import_load.NEAR_LISTED and near[0].startswith("row 3: 1 m from row 2 “Ao 0” of this file")
    assert Site.objects.count() == 3000


def test_a_site_the_importer_may_not_see_is_never_named_near_a_row(tmp_path, demo_tree, make_user, superuser, capsys):
    """A pond of the next commune, 10 m across the border from a row of a commune field
    worker's file, is not named in the notice (pentest F12: its code and name leaked), nor
    counted; the district's manager, who sees both communes, is told of it."""
    border = demo_tree["99101"].geom.intersection(demo_tree["99102"].geom).point_on_surface
    metre = 1 / 111_000
    offsets = [(dx * metre, dy * metre) for dx, dy in [(5, 0), (-5, 0), (0, 5), (0, -5)]]
    near = [Point(border.x + dx, border.y + dy, srid=4326) for dx, dy in offsets]
    ours = next(p for p in near if demo_tree["99101"].geom.contains(p))
    theirs = next(p for p in near if demo_tree["99102"].geom.contains(p))
    secret = services.site_register(actor=superuser, name="Ao bí mật", kind="pond", location=theirs)
    make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER)
    make_user("nam", demo_tree["991"], Role.AREA_MANAGER)
    for user, told in [("canbo", False), ("nam", True)]:
        path = write_csv(
            tmp_path / f"{user}.csv", ["name", "kind", "latitude", "longitude"], [["Ao", "ao", ours.y, ours.x]]
        )
        call_command("import_sites", str(path), as_user=user)
        notices = capsys.readouterr().err
        assert (secret.code in notices, "Ao bí mật" in notices, "a duplicate?" in notices) == (told, told, told)
        Site.all_objects.filter(name="Ao").delete()  # the next user's row is near the pond only

"""verify_derived: what the triggers keep (the report summary, the map grid, the audit
trail's coverage, the report results kept for past periods) equals a full rebuild after
any mix of writes, and what is broken on purpose is found and repaired."""

import csv
import datetime as dt
import io
import random
import tempfile
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from areas.loader import load_boundaries
from hazards import imports, lifecycle, services
from hazards import rules as hazards_rules
from hazards.models import Barrier, Signage, Site, SiteKind
from reports.models import AsOfResult
from reports.periods import year
from reports.selectors import Country, progress_report
from tests.conftest import DEMO_FILES, inside

pytestmark = pytest.mark.django_db


def verify(*args) -> str:
    out = io.StringIO()
    call_command("verify_derived", *args, stdout=out)
    return out.getvalue()


def import_file(rng: random.Random, communes: list, step: int) -> Path:
    """A list of three sites for the bulk import (its own SQL, and the summary and the map
    grid given its sites in one statement each), some with a state and the day checked."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=False) as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "latitude", "longitude", "deep_water", "signage", "barrier", "inspected_at"])
        for n in range(3):
            point = inside(rng.choice(communes))
            checked = rng.random() < 0.7
            writer.writerow([
                f"Nhập {step}.{n}", rng.choice(SiteKind.values), point.y, point.x, rng.choice(["có", "không"]),
                rng.choice(Signage.values) if checked else "", rng.choice(Barrier.values) if checked else "",
                f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}" if checked else "",
            ])  # fmt: skip
    return Path(handle.name)


def random_writes(tree, actor, seed: int, count: int = 60):
    """Registrations, imports, inspections and their deletion, edits, closures,
    reopenings, deletions and restorations in a random order, as people make them."""
    rng = random.Random(seed)
    communes = [area for code, area in tree.items() if len(code) == 5]
    sites = []
    start = timezone.make_aware(dt.datetime(2025, 1, 1, 8))
    for step in range(count):
        action = rng.choice(
            ["register", "register", "import", "inspect", "inspect", "retract", "edit", "close", "delete"]
        )
        if action == "import":
            path = import_file(rng, communes, step)
            try:
                result = imports.import_sites(path, actor=actor)
            finally:
                path.unlink()
            assert result.created == 3, result
            sites.extend(Site.objects.filter(name__startswith=f"Nhập {step}."))
            continue
        if action == "register" or not sites:
            area = rng.choice(communes)
            site = services.site_register(
                actor=actor, kind=rng.choice(SiteKind.values), name=f"Điểm {step}", location=inside(area),
                deep_water=rng.random() < 0.8, is_temporary=rng.random() < 0.2,
            )  # fmt: skip
            sites.append(site)
            continue
        site = rng.choice(sites)
        site.refresh_from_db()
        if site.deleted_at:
            services.site_restore(actor=actor, site=site)
        elif site.closed_at:
            lifecycle.site_reopen(actor=actor, site=site)
        elif action == "inspect":
            when = start + dt.timedelta(days=rng.randrange(700), hours=rng.randrange(24))
            services.inspection_record(
                actor=actor, site=site, inspected_at=when,
                signage=rng.choice(Signage.values), barrier=rng.choice(Barrier.values),
            )  # fmt: skip
        elif action == "retract":
            latest = site.inspections.filter(deleted_at__isnull=True).order_by("-observed_at").first()
            if latest:
                services.inspection_delete(actor=actor, inspection=latest)
        elif action == "edit":
            services.site_update(actor=actor, site=site, deep_water=not site.deep_water, name=f"{site.name}'")
        elif action == "close":
            lifecycle.site_close(actor=actor, site=site, reason="filled_in")
        else:
            services.site_delete(actor=actor, site=site)


def past_reports(tree) -> None:
    """The reports of 2025 and 2026 (past: the clock is in 2027) for the country and the
    province, whose results are kept for the next reader."""
    for area in (Country(), tree["99"]):
        for number in (2025, 2026):
            progress_report(area, year(number))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nothing_to_repair_after_random_writes(demo_tree, superuser, seed):
    with time_machine.travel(dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC), tick=False):
        random_writes(demo_tree, superuser, seed)
        past_reports(demo_tree)
        random_writes(demo_tree, superuser, seed + 100, count=20)
        past_reports(demo_tree)  # some were dropped by the writes, and are kept again
        load_boundaries(DEMO_FILES)  # a reload re-derives every site's area in one statement
        # ...and drops the kept answers, whose areas may have moved: the next reports keep them again.
        assert not AsOfResult.objects.exists()
        past_reports(demo_tree)
        assert AsOfResult.objects.exists()
        assert verify("--check").splitlines() == [
            "Sites' current state: nothing to repair.",
            "Report results kept for past periods: nothing to repair.",
            "Report summary: nothing to repair.",
            "Map grid: nothing to repair.",
            "Audit coverage: nothing to repair.",
        ]


@pytest.mark.frozen("2027-03-01T16:00")  # 2025 and 2026 are past: their results are kept
def test_broken_rows_are_found_then_repaired(demo_tree, superuser):
    random_writes(demo_tree, superuser, seed=4, count=30)
    past_reports(demo_tree)
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE reports_asofresult SET rows = \'{"99": {"counting": 1}}\' WHERE id = (SELECT min(id) FROM reports_asofresult)'
        )
        cursor.execute(
            "UPDATE reports_areaday SET protected = protected + 1 WHERE id = (SELECT min(id) FROM reports_areaday)"
        )
        cursor.execute("DELETE FROM mapping_sitecell WHERE id = (SELECT min(id) FROM mapping_sitecell)")
        cursor.execute(
            "DELETE FROM accounts_auditentry WHERE id = (SELECT min(id) FROM accounts_auditentry WHERE action = 'insert' AND \"table\" = 'hazards_site')"
        )

    with pytest.raises(CommandError):
        verify("--check")
    repaired = verify()
    assert repaired.splitlines() == [
        "Sites' current state: nothing to repair.",
        "Report results kept for past periods: 1 row repaired.",
        "Report summary: 1 row repaired.",
        "Map grid: 1 row repaired.",
        "Audit coverage: 1 row repaired.",
    ]
    assert verify("--check").count("nothing to repair") == 5


@pytest.mark.frozen("2027-03-01T16:00")
def test_a_sites_state_that_differs_from_its_inspections_is_found_then_repaired(demo_tree, superuser):
    """A site's sign and barrier as stored, changed without an inspection (by hand in SQL,
    a restore, a bug): the summary and the grid follow it by their triggers, so only the
    comparison with the inspections finds it, and repairing it puts the counts right."""
    random_writes(demo_tree, superuser, seed=5, count=30)
    site = Site.objects.filter(last_checked_at__isnull=False).exclude(signage=Signage.NONE).order_by("code").first()
    signage = site.signage
    with connection.cursor() as cursor:
        cursor.execute("UPDATE hazards_site SET signage = %s WHERE id = %s", [Signage.NONE, site.pk])

    with pytest.raises(CommandError):
        verify("--check")
    assert verify().splitlines()[:4] == [
        "Sites' current state: 1 row repaired.",
        "Report results kept for past periods: nothing to repair.",
        "Report summary: nothing to repair.",
        "Map grid: nothing to repair.",
    ]
    site.refresh_from_db()
    assert site.signage == signage
    assert verify("--check").count("nothing to repair") == 5


@pytest.fixture
def rule_counting_damaged_and_partial_as_protected(tmp_path, monkeypatch):
    """rules.sql as an edit would leave it: a damaged sign with a partial barrier now
    counts as protected. The next migrate writes it into the database."""
    rules = tmp_path / "rules.sql"
    old = "WHEN signage = 'in_place' AND barrier = 'complete' THEN 'protected'"
    text = hazards_rules.RULES_SQL.read_text()
    assert old in text
    rules.write_text(
        text.replace(old, f"{old}\n        WHEN signage = 'damaged' AND barrier = 'partial' THEN 'protected'")
    )
    monkeypatch.setattr(hazards_rules, "RULES_SQL", rules)


def damaged_and_partial(tree, actor) -> Site:
    site = services.site_register(
        actor=actor, kind=SiteKind.POND, name="Ao hư hỏng", location=inside(tree["99101"]), deep_water=True
    )
    services.inspection_record(
        actor=actor, site=site, inspected_at=timezone.now(), signage=Signage.DAMAGED, barrier=Barrier.PARTIAL
    )
    return Site.objects.get(pk=site.pk)


@pytest.mark.frozen("2027-03-01T16:00")
def test_a_changed_state_rule_reaches_every_site_and_what_counts_them(
    demo_tree, superuser, rule_counting_damaged_and_partial_as_protected
):
    """A site's state is stored when its row is written, and PostgreSQL does not compute it
    again when the function behind it is replaced: the migrate that writes a changed rule
    writes those sites again, so their lists, tiles, the map grid and the reports all
    follow the new rule, and verify_derived finds a stored state the rule no longer gives."""
    random_writes(demo_tree, superuser, seed=6, count=20)
    site = damaged_and_partial(demo_tree, superuser)
    assert site.state == "unprotected"
    protected = progress_report(demo_tree["99"], year(2027)).total.counts["protected"]

    call_command("migrate", verbosity=0)

    assert Site.objects.get(pk=site.pk).state == "protected"
    assert progress_report(demo_tree["99"], year(2027)).total.counts["protected"] == protected + 1
    assert verify("--check").count("nothing to repair") == 5


@pytest.mark.frozen("2027-03-01T16:00")
def test_a_stored_state_the_rule_no_longer_gives_is_found_then_repaired(
    demo_tree, superuser, rule_counting_damaged_and_partial_as_protected
):
    """The rule changed in the database without a migrate (by hand, a restore of an older
    database under newer rules): verify_derived finds the sites, and repairing writes them
    again, the counts along."""
    site = damaged_and_partial(demo_tree, superuser)
    with connection.cursor() as cursor:
        cursor.execute(hazards_rules.RULES_SQL.read_text())  # the new rule, and nothing else done
    with pytest.raises(CommandError):
        verify("--check")
    assert verify().splitlines()[0] == "Sites' current state: 1 row repaired."
    assert Site.objects.get(pk=site.pk).state == "protected"
    assert verify("--check").count("nothing to repair") == 5

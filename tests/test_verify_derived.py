"""verify_derived: what the triggers keep (the report summary, the map grid, the audit
trail's coverage) equals a full rebuild after any mix of writes, and what is broken on
purpose is found and repaired."""

import datetime as dt
import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from areas.loader import load_boundaries
from hazards import lifecycle, services
from hazards.models import Barrier, Signage, SiteKind
from tests.conftest import DEMO_FILES, inside

pytestmark = pytest.mark.django_db


def verify(*args) -> str:
    out = io.StringIO()
    call_command("verify_derived", *args, stdout=out)
    return out.getvalue()


def random_writes(tree, actor, seed: int, count: int = 60):
    """Registrations, inspections, edits, closures, reopenings, deletions and
    restorations in a random order, as people make them."""
    rng = random.Random(seed)
    communes = [area for code, area in tree.items() if len(code) == 5]
    sites = []
    start = timezone.make_aware(dt.datetime(2025, 1, 1, 8))
    for step in range(count):
        action = rng.choice(["register", "register", "inspect", "inspect", "edit", "close", "delete"])
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
        elif action == "edit":
            services.site_update(actor=actor, site=site, deep_water=not site.deep_water, name=f"{site.name}'")
        elif action == "close":
            lifecycle.site_close(actor=actor, site=site, reason="filled_in")
        else:
            services.site_delete(actor=actor, site=site)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nothing_to_repair_after_random_writes(demo_tree, superuser, seed):
    random_writes(demo_tree, superuser, seed)
    load_boundaries(DEMO_FILES)  # a reload re-derives every site's area in one statement
    assert verify("--check").splitlines() == [
        "Report summary: nothing to repair.",
        "Map grid: nothing to repair.",
        "Audit coverage: nothing to repair.",
    ]


def test_broken_rows_are_found_then_repaired(demo_tree, superuser):
    random_writes(demo_tree, superuser, seed=4, count=30)
    with connection.cursor() as cursor:
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
        "Report summary: 1 row repaired.",
        "Map grid: 1 row repaired.",
        "Audit coverage: 1 row repaired.",
    ]
    assert verify("--check").count("nothing to repair") == 3

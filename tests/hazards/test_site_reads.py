"""Reads of sites and inspections start in hazards/selectors.py, which applies the area
scope (accounts/scope.py): the modules that answer people and programs (pages, APIs,
the admin, exports, tiles, the priority list, OGC API Features, documents) shape what
the selectors return and never start a query of sites or inspections of their own. This
test reads them for one."""

import re
from pathlib import Path

from django.conf import settings

from tests.conftest import tracked

ROOT = Path(settings.BASE_DIR)
# The modules that answer requests or write what a person downloads, by their names.
ANSWERING = re.compile(
    r"(^|/)(views|api|rest|exports|tiles|priority|admin|survey|files|documents|campaign_files|tile_documents)\.py$"
    r"|_(api|pages|admin)\.py$|/ogc/"
)
# A query of sites or inspections started here, in the ORM or in SQL.
OWN_READ = re.compile(r"\b(Site|Inspection)\.(objects|all_objects)\b|\b(FROM|JOIN)\s+hazards_(site|inspection)\b")
APPS = ["areas", "accounts", "hazards", "reports", "mapping"]


def answering_modules() -> list[str]:
    return [name for name in tracked(*APPS) if ANSWERING.search(name) and "/migrations/" not in name]


def test_pages_and_apis_read_sites_through_the_selectors():
    modules = answering_modules()
    assert {"hazards/lifecycle_api.py", "hazards/order_pages.py", "mapping/ogc/collections.py"} <= set(modules)
    own = [
        f"{name}:{number}: {line.strip()}"
        for name in modules
        for number, line in enumerate((ROOT / name).read_text().splitlines(), start=1)
        if OWN_READ.search(line)
    ]
    assert own == []


def test_the_pattern_finds_a_read_of_its_own():
    assert OWN_READ.search('site = scope_for(user).restrict(Site.objects.select_related("area"), VIEW)')
    assert OWN_READ.search("Site.all_objects.annotate(due=Due(timezone.now())).get(pk=site.pk)")
    assert OWN_READ.search("SELECT count(*) FROM hazards_site s WHERE s.area_id = %s")
    assert not OWN_READ.search('reverse("admin:hazards_site_change", args=[site.pk])')
    assert not OWN_READ.search("selectors.sites(request.user, EDIT).filter(pk=chosen).first()")

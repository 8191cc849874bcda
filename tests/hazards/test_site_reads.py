"""Reads of sites, inspections and photos start in hazards/selectors.py, which applies the
area scope (accounts/scope.py): every module of the project's packages shapes what the
selectors return and never starts a query of sites, inspections or photos of its own,
but the modules of ALLOWED, each with why (the writes, which lock and change the rows
they read, and the upkeep that reads every row for no reader). A new module is read
without anyone listing it. The selectors themselves say which of them pass the scope
check: those that take the user first; the module's docstring names each of the others."""

import ast
import re
import tomllib
from pathlib import Path

from django.conf import settings

from hazards import selectors
from tests.conftest import tracked

ROOT = Path(settings.BASE_DIR)
HOME = "hazards/selectors.py"
# A query of sites, inspections or photos started here, in the ORM or in SQL.
OWN_READ = re.compile(
    r"\b(Site|Inspection|Photo)\.(objects|all_objects)\b|\b(FROM|JOIN)\s+hazards_(site|inspection|photo)\b"
)
# The modules that may start their own, each with why.
ALLOWED = {
    "hazards/services.py": "every write: locks the row it changes, or writes new ones, after its own scope check",
    "hazards/lifecycle.py": "a site's life (closing, reopening, merging, dated changes): locks and moves the rows",
    "hazards/orders.py": "remediation orders' writes: lock the order's site, decide with the inspections since",
    "hazards/import_load.py": "the bulk import, one set-based statement per chunk (README, Layout: the exception)",
    "hazards/current_state.py": "derives every site's current state from its inspections, and checks it",
    "hazards/audit_coverage.py": "the audit trail's coverage check over every record (verify_derived)",
    "hazards/receivers.py": "a boundary reload re-assigns every site inside the file's extent in one UPDATE",
    "hazards/backup.py": "a backup lists every stored photo file",
    "hazards/management/commands/load_demo.py": "writes the demo data",
    "reports/selectors.py": "the reports' own reads: sites as they were on a day, for an area already checked",
}


def project_modules() -> list[str]:
    """The Python modules of every package import-linter knows (pyproject.toml), but
    migrations (history: what ran once)."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
    return [name for name in tracked(*packages) if name.endswith(".py") and "/migrations/" not in name]


def own_reads() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in project_modules():
        for number, line in enumerate((ROOT / name).read_text().splitlines(), start=1):
            if OWN_READ.search(line):
                found.setdefault(name, []).append(f"{name}:{number}: {line.strip()}")
    return found


def test_every_module_reads_sites_through_the_selectors():
    modules = project_modules()
    assert {"hazards/photo_files.py", "hazards/sync.py", "mapping/ogc/collections.py", "areas/loader.py"} <= set(
        modules
    )
    found = own_reads()
    assert [line for name, lines in found.items() if name != HOME and name not in ALLOWED for line in lines] == []


def test_the_allow_list_holds_only_modules_still_reading():
    assert sorted(set(ALLOWED) - set(own_reads())) == []


def test_the_pattern_finds_a_read_of_its_own():
    assert OWN_READ.search('site = scope_for(user).restrict(Site.objects.select_related("area"), VIEW)')
    assert OWN_READ.search("Site.all_objects.annotate(due=Due(timezone.now())).get(pk=site.pk)")
    assert OWN_READ.search("SELECT count(*) FROM hazards_site s WHERE s.area_id = %s")
    assert OWN_READ.search("live = Photo.objects.filter(named, inspection__deleted_at__isnull=True)")
    assert OWN_READ.search("EXISTS (SELECT 1 FROM hazards_photo p WHERE p.inspection_id = last.id)")
    assert not OWN_READ.search('reverse("admin:hazards_site_change", args=[site.pk])')
    assert not OWN_READ.search("selectors.sites(request.user, EDIT).filter(pk=chosen).first()")


def _functions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse((ROOT / HOME).read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _takes_user(function: ast.FunctionDef) -> bool:
    return bool(function.args.args) and function.args.args[0].arg == "user"


def _scoped(functions: dict[str, ast.FunctionDef]) -> set[str]:
    """The functions that call scope_for, or another that does."""
    calls = {
        name: {
            node.func.id
            for node in ast.walk(function)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        for name, function in functions.items()
    }
    scoped: set[str] = set()
    while True:
        more = {name for name, called in calls.items() if "scope_for" in called or called & scoped} - scoped
        if not more:
            return scoped
        scoped |= more


def _listed_unscoped() -> set[str]:
    """The selectors the module's docstring lists as reading without the scope check."""
    lines = selectors.__doc__.split("One that takes no user reads without it")[1].splitlines()
    return {name for line in lines if line.startswith("- ") for name in line[2:].split(":")[0].split(", ")}


def test_a_selector_that_takes_the_user_passes_the_scope_check():
    functions = _functions()
    public = {name: function for name, function in functions.items() if not name.startswith("_")}
    assert {"sites", "inspection", "photos_of_file", "survey_site_list_rest"} <= {
        name for name, function in public.items() if _takes_user(function)
    }
    assert (
        sorted(name for name, function in public.items() if _takes_user(function) and name not in _scoped(functions))
        == []
    )


def test_the_docstring_lists_every_selector_that_takes_no_user():
    public = {name: function for name, function in _functions().items() if not name.startswith("_")}
    assert _listed_unscoped() == {name for name, function in public.items() if not _takes_user(function)}

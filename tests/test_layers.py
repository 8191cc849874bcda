"""Apps depend one way: areas, accounts, hazards, then mapping and reports. import-linter
(pyproject.toml, `make lint`) sees Python imports only; a lower app can still point up
through SQL (a table or function of an upper app) or a model label in a string. This
test reads each lower app's Python and SQL for such names. A lower app that needs an
upper app to act offers a hook (areas/signals.py, hazards/signals.py) or a registry
(accounts/scope.py's scope_models) that the upper app joins in its AppConfig.ready()."""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# The apps above each lower app, by layer (pyproject.toml's contract).
ABOVE = {
    "areas": ("accounts", "hazards", "mapping", "reports"),
    "accounts": ("hazards", "mapping", "reports"),
    "hazards": ("mapping", "reports"),
}

# Names a lower app may still hold, each with why; any other hit fails.
ALLOWED: dict[tuple[str, str], str] = {}


def upper_name(apps: tuple[str, ...]) -> re.Pattern:
    """A table or SQL function of the apps (mapping_sitecell, reports_rebuild_summary())
    or a model label ("reports.target")."""
    names = "|".join(apps)
    return re.compile(rf"""\b(?:{names})_\w+|["'](?:{names})\.[a-z]+["']""")


def app_files(app: str):
    # Migrations are history (what ran once); the SQL files they apply are read here.
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", app],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in tracked if name.endswith((".py", ".sql")) and "/migrations/" not in name]


@pytest.mark.parametrize("app", ABOVE)
def test_a_lower_app_names_nothing_above_it(app):
    pattern = upper_name(ABOVE[app])
    found = {
        (name, match)
        for name in app_files(app)
        for line in (ROOT / name).read_text().splitlines()
        for match in pattern.findall(line)
    }
    assert sorted(found - ALLOWED.keys()) == []


def test_the_allow_list_holds_only_names_still_found():
    """An allowance whose name has gone is removed with it, so the list never grows stale."""
    found = {
        (name, match)
        for app in ABOVE
        for name in app_files(app)
        for line in (ROOT / name).read_text().splitlines()
        for match in upper_name(ABOVE[app]).findall(line)
    }
    assert sorted(ALLOWED.keys() - found) == []

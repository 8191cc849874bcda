"""The README's layout table names every module of the apps (and every ES module of the
static folders), so that a reader finds where each thing lives and the table stays true
as modules are added. A module is named in its folder's row by its name in backticks
(`selectors`, `ogc/next_page`, `sql_files.py`); Django's AppConfig modules (`apps`) and
migrations aside. Every folder of the tree has its row."""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["config", "common", "areas", "accounts", "hazards", "reports", "mapping"]


def layout_rows() -> dict[str, str]:
    """Each row of the table under "## Layout", by its folder ("hazards/", "static/survey/")."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = re.match(r"\| `([^`]+/)` \| (.*) \|$", line)
        if found:
            rows[found.group(1)] = found.group(2)
    return rows


def named(module: Path, row: str) -> bool:
    names = set(re.findall(r"`([^`]+)`", row))
    stem, path = module.stem, module.with_suffix("").as_posix()
    return bool(names & {stem, path, module.name, module.as_posix()} or any(n.endswith(f"/{stem}") for n in names))


def modules(folder: str, suffix: str, others: list[str]) -> list[Path]:
    """The modules under `folder`, but those under a folder with a row of its own."""
    base = ROOT / folder
    found = []
    for path in sorted(base.rglob(f"*{suffix}")):
        relative = path.relative_to(ROOT).as_posix()
        if "migrations" in path.parts or path.name in ("__init__.py", "apps.py") or "vendor" in path.parts:
            continue
        if any(relative.startswith(other) for other in others if other != folder and other.startswith(folder)):
            continue
        found.append(path.relative_to(base))
    return found


@pytest.mark.parametrize("app", APPS)
def test_every_python_module_of_an_app_is_in_the_layout_table(app):
    rows = layout_rows()
    assert f"{app}/" in rows, f"the layout table has no row for {app}/"
    missing = [m.as_posix() for m in modules(f"{app}/", ".py", list(rows)) if not named(m, rows[f"{app}/"])]
    assert missing == [], f"README's layout row for {app}/ does not name {missing}"


def test_every_es_module_of_the_static_folders_is_in_the_layout_table():
    rows = layout_rows()
    missing = []
    for script in sorted((ROOT / "static").rglob("*.js")):
        if "vendor" in script.parts:
            continue
        folder = script.parent.relative_to(ROOT).as_posix() + "/"
        if folder not in rows or not named(Path(script.name), rows[folder]):
            missing.append(script.relative_to(ROOT).as_posix())
    assert missing == [], f"README's layout table does not name {missing}"


def test_the_check_sees_a_module_left_out():
    row = "the area tree (`models`), its loader (`loader`, command `load_areas`), `ogc/next_page`"
    assert named(Path("models.py"), row) and named(Path("ogc/next_page.py"), row)
    assert named(Path("management/commands/load_areas.py"), row)
    assert not named(Path("signals.py"), row) and not named(Path("ogc/params.py"), row)


def test_every_top_level_folder_is_in_the_layout_table():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    folders = {name.split("/")[0] for name in tracked if "/" in name}
    assert folders - {row.split("/")[0] for row in layout_rows()} == set()

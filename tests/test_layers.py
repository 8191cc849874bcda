"""Apps depend one way: areas, accounts, hazards, then mapping and reports. import-linter
(pyproject.toml, `make lint`) sees Python imports only; a lower app can still point up
through SQL (a table or function of an upper app) or a model label in a string. This
test reads each lower app's Python and SQL for such names, and each lower app's pages for
links to an upper app's. A lower app that needs an upper app to act offers a hook
(areas/signals.py, hazards/signals.py) or a registry (accounts/scope.py's scope_models,
common/navigation.py's places for links) that the upper app joins in its
AppConfig.ready()."""

import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver

from tests.conftest import tracked

ROOT = Path(settings.BASE_DIR)


def layer_ranks() -> dict[str, int]:
    """Each package's rank in import-linter's layers (pyproject.toml), 0 at the bottom."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    return {name: rank for rank, name in enumerate(reversed(layers))}


# The apps above each lower one (config, the project on top, is no app whose tables or
# models a lower one could name).
_APPS = {name: rank for name, rank in layer_ranks().items() if name != "config"}
ABOVE = {app: tuple(a for a in _APPS if _APPS[a] > rank) for app, rank in _APPS.items() if rank < max(_APPS.values())}

# Names a lower app may still hold, each with why; any other hit fails.
ALLOWED: dict[tuple[str, str], str] = {}


def upper_name(apps: tuple[str, ...]) -> re.Pattern:
    """A table or SQL function of the apps (mapping_sitecell, reports_rebuild_summary())
    or a model label ("reports.target")."""
    names = "|".join(apps)
    return re.compile(rf"""\b(?:{names})_\w+|["'](?:{names})\.[a-z]+["']""")


def app_files(app: str):
    # Migrations are history (what ran once); the SQL files they apply are read here.
    return [name for name in tracked(app) if name.endswith((".py", ".sql")) and "/migrations/" not in name]


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


# ---------- links: a lower app's page names no page of an app above it ----------
#
# import-linter sees imports only; a page reaches upward by a URL name too ({% url %},
# reverse(), redirect()), and then fails to render without the upper app installed. Who
# owns a name is read from the URLconf (the app whose module serves it); the order of the
# layers from import-linter's contract. Names served outside the project (Django's
# sign-in, language and admin pages, the API schema) are there with every app, and so are
# config's own (the start page, health, Leaflet's icons): config is the project, which
# installs every app and holds every name, not an app a page could be without.

TEMPLATE_URL = re.compile(r"""\{%\s*url\s+["']([\w:-]+)["']""")  # {% url 'name' … %}
# reverse("name", …), an offered Link("name", …), and each name in the first argument of
# redirect("a" if … else "b").
PYTHON_URL = re.compile(r"""\b(?:reverse|reverse_lazy|redirect|Link)\(([^(),]*)""")
QUOTED_NAME = re.compile(r"""(?<!== )(?<!!= )["']([\w:-]+)["']""")  # not one compared with
# A template named in Python (render, TemplateResponse, template_name) or in a template
# ({% extends %}, {% include %}): what the page renders besides its own file.
TEMPLATE_NAME = re.compile(r"""["']([\w./-]+\.(?:html|txt|js))["']""")


def url_names(text: str) -> list[str]:
    return TEMPLATE_URL.findall(text) + [n for arg in PYTHON_URL.findall(text) for n in QUOTED_NAME.findall(arg)]


def serving_package(callback) -> str:
    """The top package of the code behind a URL: the app of an admin page's model, the
    module of a view (a class-based view's class, a DRF viewset's)."""
    model_admin = getattr(callback, "model_admin", None)
    if model_admin is not None:
        return model_admin.model._meta.app_config.name.split(".")[0]
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
    return view.__module__.split(".")[0]


def url_owners() -> dict[str, set[str]]:
    """Every URL name the URLconf reverses ("admin:index" with its namespace), with the
    packages that serve it."""
    owners: dict[str, set[str]] = {}

    def walk(patterns, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                owners.setdefault(namespace + pattern.name, set()).add(serving_package(pattern.callback))

    walk(get_resolver().url_patterns, "")
    return owners


def templates_by_name(ranks: dict[str, int]) -> dict[str, tuple[str, str | None]]:
    """Each template by its name: its file and the app that keeps it (an app's
    templates/; in the project's templates/ one under an app's name, "accounts/…" or
    "admin/accounts/…"). The frame (base.html, error.html) is no app's: it counts for
    every app that renders it."""
    found = {}
    for name in tracked(*(f"{app}/templates" for app in ranks), "templates"):
        folder, _, template = name.partition("/templates/") if "/templates/" in name else ("", "", name[10:])
        first, *rest = template.split("/")
        owner = folder or (rest[0] if first == "admin" and rest else first)
        found[template] = (name, owner if owner in ranks else None)
    return found


def links_upward() -> list[tuple[str, str, str, str]]:
    """(app, file, URL name, the app above serving it) for each link that points up."""
    ranks = layer_ranks()
    owners = url_owners()
    templates = templates_by_name(ranks)
    text = {
        name: (ROOT / name).read_text()
        for name in tracked(*ranks, "templates")
        if name.endswith((".py", ".html", ".txt", ".js"))
    }
    found = []
    for app in ranks:
        if app == "config":
            continue
        files = {name for name in text if name.startswith(f"{app}/") and "/migrations/" not in name}
        files |= {file for file, owner in templates.values() if owner == app}
        # What they render, and what that extends or includes, to the end.
        todo = list(files)
        while todo:
            for used in TEMPLATE_NAME.findall(text[todo.pop()]):
                if used in templates and templates[used][0] not in files:
                    files.add(templates[used][0])
                    todo.append(templates[used][0])
        for file in sorted(files):
            for name in url_names(text[file]):
                above = {o for o in owners.get(name, {"?"}) if o != "config" and ranks.get(o, -1) > ranks[app]}
                found += [(app, file, name, owner) for owner in sorted(above)]
    return found


def test_every_name_a_page_links_to_is_in_the_urlconf():
    """Ownership comes from the URLconf: a name it does not hold would pass unjudged."""
    owners = url_owners()
    files = [name for name in tracked(".") if name.endswith((".py", ".html", ".txt")) and not name.startswith("tests/")]
    names = {name for file in files for name in url_names((ROOT / file).read_text())}
    assert sorted(names - owners.keys()) == []


def test_no_page_of_a_lower_app_links_to_an_app_above_it():
    """A lower page that links up asks the upper app to offer the link instead
    (common/navigation.py), or the page moves to the app whose page it links to."""
    assert links_upward() == []

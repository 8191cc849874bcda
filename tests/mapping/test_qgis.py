"""QGIS 3.22 (Debian's python3-qgis, headless) against the production stack, signed in
with a stored Basic credential (user name and device token): the OGC API layer and the
vector tiles with the registry's style give QGIS exactly the sites of the user's areas."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point, Polygon

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.filters import STATES
from mapping.tile_documents import palette
from tests.conftest import inside
from tests.hazards.test_import_jobs import wait_for

pytestmark = [pytest.mark.qgis, pytest.mark.django_db(transaction=True)]

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-qgis is Debian's, not in the project's virtualenv
CLIENT = Path(__file__).with_name("qgis_client.py")


@pytest.fixture(scope="session")
def qgis():
    """QGIS for the system Python: installed by `make qgis` (scripts/system-packages.sh)
    when missing. Where it cannot be, the test fails saying why: a GIS client's test
    that does not run must not pass."""
    if subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("QGIS (Debian's python3-qgis) is not installed, and installing it needs root: run `make qgis`")
    installer = Path(settings.BASE_DIR) / "scripts" / "system-packages.sh"
    installed = subprocess.run([installer, "python3-qgis"], capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.fail(f"QGIS (python3-qgis) could not be installed: {installed.stderr.strip()[-400:]}")


@pytest.fixture
def province(demo_tree, make_user, make_site, superuser):
    """A district manager with a device token; five sites in the district (the first two
    ponds drawn with their shores), two outside (one drawn)."""
    user = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER)
    _token, key = token_issue(actor=superuser, user=user, name="QGIS trên máy tính phòng")
    mine = []
    for code in ("99101", "99101", "99101", "99102", "99103"):
        location = inside(demo_tree[code]).clone()
        location.x += 0.002 * len(mine)
        drawn = {"outline": shore(location)} if len(mine) < 2 else {}
        mine.append(make_site(demo_tree[code], location=location, name=f"Ao {len(mine)}", **drawn))
    make_site(demo_tree["99201"], name="Ao huyện khác", outline=shore(inside(demo_tree["99201"])))
    make_site(demo_tree["99301"], name="Ao huyện khác")
    return user, key, mine


def shore(point: Point) -> Polygon:
    x, y = point.coords
    return Polygon(((x - 3e-4, y), (x, y - 3e-4), (x + 3e-4, y), (x, y + 3e-4), (x - 3e-4, y)), srid=4326)


def exported(stack, key: str, fmt: str, folder: Path) -> Path:
    """The export as a script or the officer's browser fetches it from the stack: asked,
    made by the stack's worker, downloaded."""
    asking = {"Authorization": f"Token {key}"}
    status, _headers, body = stack.get(f"/api/v1/exports/sites.{fmt}", asking)
    assert status == 202, body[:300]
    run_id = json.loads(body)["id"]

    def finished():
        state = json.loads(stack.get(f"/api/v1/jobs/{run_id}/", asking)[2])
        assert state["status"] != "failed", state
        return state if state["status"] == "done" else None

    state = wait_for(finished, 300, f"the {fmt} export")
    status, _headers, body = stack.get(state["file"].removeprefix(stack.url), asking)
    assert status == 200
    path = folder / f"province.{'zip' if fmt == 'shp' else fmt}"
    path.write_bytes(body)
    return path


def assert_matches_the_registry(report: dict, sites: list, outlines: bool = False) -> None:
    """A layer as QGIS read it holds these sites, no other, with their codes and names (and
    states) and, for an outlines layer, each site's outline where the registry has it."""
    assert report["valid"], report
    assert sorted(report["ids"]) == sorted(str(s.pk) for s in sites)
    for site in sites:
        seen = report["features"][str(site.pk)]
        assert seen["code"] == site.code
        if "name" in seen:
            assert seen["name"] == site.name
        if "state" in seen:
            assert seen["state"] == site.state
        geometry = site.outline if outlines else site.location
        assert seen["bounds"] == pytest.approx(list(geometry.extent), abs=1e-7), site.code


def mercator_box(points, margin: float) -> list[float]:
    xs, ys = zip(*(p.transform(3857, clone=True).coords for p in points), strict=True)
    return [min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin]


def test_qgis_reads_the_ogc_layers_the_exports_and_the_vector_tiles_with_a_basic_credential(
    qgis, stack, certificate, province, tmp_path
):
    user, key, mine = province
    commune = [s for s in mine if s.area.code == "99101"]
    drawn = [s for s in mine if s.outline is not None]
    gpkg, shp = exported(stack, key, "gpkg", tmp_path), exported(stack, key, "shp", tmp_path)
    job = {
        "files": {
            "gpkg sites": f"{gpkg}|layername=sites",
            "gpkg outlines": f"{gpkg}|layername=outlines",
            "shp sites": f"/vsizip/{shp}/sites.shp",
            "shp outlines": f"/vsizip/{shp}/outlines.shp",
        },
        "url": stack.url,
        "certificate": str(certificate[0]),
        "username": user.username,
        "token": key,
        # Zoomed on the commune's sites (single sites), then the whole province (clusters).
        "views": [mercator_box([s.location for s in commune], 300), mercator_box([s.location for s in mine], 60000)],
    }
    run = subprocess.run([SYSTEM_PYTHON, str(CLIENT), json.dumps(job)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["version"].startswith("3.22")

    ogc = report["ogc"]
    assert ogc["valid"], ogc
    assert sorted(ogc["ids"]) == sorted(str(s.pk) for s in mine)
    assert {"code", "kind", "state", "closed_at", "last_checked_at"} <= set(ogc["fields"])
    # The registry's QGIS style: colours by state in the maps' palette, Vietnamese field
    # names and choice labels (the stack answers in Vietnamese, its default).
    style = ogc["style"]
    assert style["renderer"] == "categorizedSymbol" and set(style["categories"]) == set(STATES), style
    assert style["categories"]["unprotected"] == palette()[0]["unprotected"]
    assert (style["kind_alias"], style["kind_shown"]) == ("loại", "Ao"), style

    assert_matches_the_registry(ogc, mine)
    assert ogc["geometry"] == "Point"
    outlines = report["ogc_outlines"]
    assert_matches_the_registry(outlines, drawn, outlines=True)
    assert outlines["geometry"] == "Polygon"

    # The exports as QGIS opens them: the sites (points) and their outlines (polygons, id
    # and code, joined on id), of the user's areas only.
    files = report["files"]
    for fmt in ("gpkg", "shp"):
        assert_matches_the_registry(files[f"{fmt} sites"], mine)
        assert files[f"{fmt} sites"]["geometry"] == "Point"
        assert_matches_the_registry(files[f"{fmt} outlines"], drawn, outlines=True)
        assert set(files[f"{fmt} outlines"]["fields"]) >= {"id", "code"}
    assert files["gpkg outlines"]["geometry"] == "Polygon"
    assert files["shp outlines"]["geometry"] in ("Polygon", "MultiPolygon")  # a Shapefile's polygons are multi

    tiles = report["tiles"]
    assert tiles["valid"], tiles
    # The registry's style as QGIS read it: clusters and sites, a rule per state.
    rules = dict(tiles["style"])
    assert [layer for layer, _rule in tiles["style"]].count("clusters") == 5
    assert "\"state\" IS 'unprotected'" in [rule for layer, rule in tiles["style"] if layer == "sites"], rules
    near, far = tiles["views"]
    assert len(near["sites"]) == len(commune)  # each of the commune's sites, once
    assert {site["state"] for site in near["sites"].values()} == {"unprotected"}
    counted = sum(sum(c.get(state, 0) or 0 for state in STATES) for c in far["clusters"].values())
    assert counted == len(mine)  # the province's clusters hold the district's five sites, no other

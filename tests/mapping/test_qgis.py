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

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.filters import STATES
from mapping.tile_documents import palette
from tests.conftest import inside

pytestmark = [pytest.mark.qgis, pytest.mark.django_db(transaction=True)]

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-qgis is Debian's, not in the project's virtualenv
CLIENT = Path(__file__).with_name("qgis_client.py")


@pytest.fixture(scope="session")
def qgis():
    """QGIS for the system Python: installed by `make qgis` (scripts/system-packages.sh)
    when missing; skipped, saying why, where it cannot be."""
    if subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("QGIS (Debian's python3-qgis) is not installed, and installing it needs root: run `make qgis`")
    installer = Path(settings.BASE_DIR) / "scripts" / "system-packages.sh"
    installed = subprocess.run([installer, "python3-qgis"], capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.skip(f"QGIS (python3-qgis) could not be installed: {installed.stderr.strip()[-400:]}")


@pytest.fixture
def province(demo_tree, make_user, make_site, superuser):
    """A district manager with a device token; five sites in the district, two outside."""
    user = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER)
    _token, key = token_issue(actor=superuser, user=user, name="QGIS trên máy tính phòng")
    mine = []
    for code in ("99101", "99101", "99101", "99102", "99103"):
        location = inside(demo_tree[code]).clone()
        location.x += 0.002 * len(mine)
        mine.append(make_site(demo_tree[code], location=location, name=f"Ao {len(mine)}"))
    for code in ("99201", "99301"):
        make_site(demo_tree[code], name="Ao huyện khác")
    return user, key, mine


def mercator_box(points, margin: float) -> list[float]:
    xs, ys = zip(*(p.transform(3857, clone=True).coords for p in points), strict=True)
    return [min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin]


def test_qgis_reads_the_ogc_layer_and_the_vector_tiles_with_a_basic_credential(qgis, stack, certificate, province):
    user, key, mine = province
    commune = [s for s in mine if s.area.code == "99101"]
    job = {
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

"""ogr2ogr reading the whole sites collection from OGC API Features (issue 20), as a
national GIS officer copies the layer following the README: GDAL's OAPIF driver with
PAGE_SIZE at the API's maximum (GDAL 3.6 otherwise asks for 10 features a page; it reads
no page size from the API description, as QGIS does), signed in with Basic (user name and
device token), against a server on the benchmark database. The reference is the registry's own GeoJSON export of the same
sites in the same officer's scope (hazards.exports), taken in turns with the copy."""

import re
import subprocess
import tempfile
import time

from accounts.scope import VIEW, scope_for
from accounts.tokens import token_issue, token_revoke
from bench.server import free_port, start_server
from bench.users import national_gis_officer, national_user
from hazards.exports import geojson_chunks
from hazards.models import Site
from mapping.ogc.params import MAX_LIMIT

RUNS = 3
PAGE = re.compile(r'"GET /ogc/collections/sites/items 200"')


def copy_ms(url: str, credential: str) -> tuple[float, int]:
    """Wall time of ogr2ogr copying the collection to GeoJSON lines, and the features it wrote."""
    start = time.perf_counter()
    options = ["-oo", f"USERPWD={credential}", "-oo", f"PAGE_SIZE={MAX_LIMIT}"]
    command = ["ogr2ogr", "-f", "GeoJSONSeq", "/vsistdout/", *options, f"OAPIF:{url}/ogc/", "sites"]
    copy = subprocess.Popen(command, stdout=subprocess.PIPE)
    features = sum(1 for _line in copy.stdout)
    if copy.wait() != 0:
        raise SystemExit(f"ogr2ogr failed (exit {copy.returncode})")
    return (time.perf_counter() - start) * 1000, features


def export_ms(sites) -> float:
    start = time.perf_counter()
    for _chunk in geojson_chunks(sites):
        pass
    return (time.perf_counter() - start) * 1000


def run(*, timed, p95, psql_ms, Result):
    officer = national_gis_officer()
    token, key = token_issue(actor=national_user(), user=officer, name="ogc benchmark")
    sites = scope_for(officer).restrict(Site.objects.order_by("code"), VIEW)
    count = sites.count()
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = start_server(port, log=log)
        try:
            copies, exports = [], []
            export_ms(sites)  # warm-up: the copy's first run warms what the export does not
            for _run in range(RUNS):  # in turns, so both see the same machine
                elapsed, features = copy_ms(f"http://127.0.0.1:{port}", f"{officer.username}:{key}")
                if features != count:
                    raise SystemExit(f"ogr2ogr copied {features} features of {count}")
                copies.append(elapsed)
                exports.append(export_ms(sites))
        finally:
            server.terminate()
            server.wait()
            token_revoke(actor=national_user(), token=token)
        log.seek(0)
        pages = len(PAGE.findall(log.read())) // RUNS
    reference = p95(exports)
    return [
        Result(
            f"ogr2ogr of the whole sites collection over OGC API Features ({count:,} sites, {pages} pages a copy, "
            f"national viewer; export median {sorted(exports)[len(exports) // 2]:.0f} ms)",
            sorted(copies)[len(copies) // 2],
            p95(copies),
            "the GeoJSON export of the same sites in the same scope (hazards.exports), in turns with the copy",
            reference,
            "p95 ≤ 3x reference",
            p95(copies) <= 3 * reference,
        )
    ]

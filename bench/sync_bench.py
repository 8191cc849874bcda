"""The tablet sync API (issue: field survey) receiving a full outbox of 500 records: 100
new sites, each with its first inspection, and 400 inspections of existing sites, all in
the busiest commune, sent by that commune's field worker. Every run sends new records.
The reference writes the same rows with one SQL statement in psql (no checks, no
derived state): what the database alone costs."""

import datetime as dt
import random
import uuid

from django.test import Client
from django.utils import timezone

from bench.users import busiest_commune_id, field_worker, remove_records_of
from hazards.models import Site

NEW_SITES, INSPECTIONS = 100, 400

REFERENCE = f"""
WITH new_site AS (
    INSERT INTO hazards_site (id, code, kind, name, location, area_id, deep_water, responsible_party, notes,
        is_temporary, active_from, close_reason, signage, barrier, last_checked_at, photo_evidence, created_at,
        updated_at, client_fingerprint)
    SELECT gen_random_uuid(), 'R' || substr(md5(random()::text), 1, 12), 'pond', 'Ao tham chiếu', ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
           %(area)s, true, '', 'bench reference', false, CURRENT_DATE, '', 'none', 'partial', now(), false, now(), now(), ''
    FROM generate_series(1, {NEW_SITES})
    RETURNING id
), inspected AS (
    SELECT id FROM new_site
    UNION ALL (SELECT id FROM hazards_site WHERE area_id = %(area)s AND deleted_at IS NULL LIMIT {INSPECTIONS})
)
INSERT INTO hazards_inspection (id, site_id, inspected_at, received_at, observed_at, clock_suspect, signage, barrier,
    water_present, notes, client_fingerprint)
SELECT gen_random_uuid(), id, now(), now(), now(), false, 'in_place', 'partial', true, 'bench reference', ''
FROM inspected
"""


def busiest_commune() -> tuple[int, float, float]:
    area_id = busiest_commune_id()
    site = Site.objects.filter(area_id=area_id).first()
    return area_id, site.location.x, site.location.y


def batch(area_id: int, lon: float, lat: float, rng: random.Random) -> dict:
    now = timezone.now()
    # Open sites: a closed one refuses new inspections.
    existing = list(
        Site.objects.filter(area_id=area_id, closed_at__isnull=True).values_list("id", "location")[:INSPECTIONS]
    )
    sites = []
    for _i in range(NEW_SITES):
        # Near an existing site of the commune, so the point is inside it.
        point = [lon + rng.uniform(-0.0003, 0.0003), lat + rng.uniform(-0.0003, 0.0003)]
        sites.append(
            {
                "id": str(uuid.uuid4()),
                "kind": "pond",
                "name": "Ao mới",
                "location": {"type": "Point", "coordinates": point},
                "inspection": {
                    "id": str(uuid.uuid4()),
                    "inspected_at": (now - dt.timedelta(minutes=5)).isoformat(),
                    "signage": "none",
                    "barrier": "partial",
                    "gps_fix": {"type": "Point", "coordinates": point},
                    "gps_accuracy_m": 5,
                },
            }
        )
    inspections = [
        {
            "id": str(uuid.uuid4()),
            "site": str(site_id),
            "inspected_at": (now - dt.timedelta(minutes=3)).isoformat(),
            "signage": "in_place",
            "barrier": "partial",
            "gps_fix": {"type": "Point", "coordinates": [location.x, location.y]},
            "gps_accuracy_m": 5,
        }
        for site_id, location in existing
    ]
    return {"sites": sites, "inspections": inspections}


def run(*, timed, p95, psql_ms, Result):
    area_id, lon, lat = busiest_commune()
    client = Client(SERVER_NAME="localhost")  # a host the settings allow
    worker = field_worker()
    client.force_login(worker)
    rng = random.Random(500)
    batches = []

    def prepare():
        batches.append(batch(area_id, lon, lat, rng))

    def send():
        response = client.post("/api/v1/sync/batch/", batches[-1], content_type="application/json")
        refused = [r for r in response.json()["results"] if r["status"] != 201]
        if response.status_code != 200 or refused:
            raise SystemExit(f"sync batch: HTTP {response.status_code}, {len(refused)} refused, first: {refused[:1]}")

    times = timed(send, runs=5, before=prepare)
    reference, _rows = psql_ms(REFERENCE % {"lon": lon, "lat": lat, "area": area_id}, runs=5)
    remove_records_of(worker, reference_note="bench reference")
    worst = p95(times)
    return [
        Result(
            f"sync API, one batch of {NEW_SITES + INSPECTIONS} records ({NEW_SITES} new sites with a first "
            f"inspection, {INSPECTIONS} inspections)",
            sorted(times)[len(times) // 2],
            worst,
            "the same rows written by one SQL statement in psql",
            reference,
            "p95 ≤ 10x reference (issue 19)",
            worst <= 10 * reference,
        )
    ]

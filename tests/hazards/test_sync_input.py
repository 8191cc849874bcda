"""The sync API under hostile input and races: every record gets its own outcome, a bad
one never stops the others, nothing answers 5xx, and the same record arriving twice at
once is a replay, not a conflict."""

import json
import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hazards.models import Inspection, Site
from tests.hazards.test_sync_api import site_record

pytestmark = pytest.mark.django_db

NESTED = "[" * 100_000 + "]" * 100_000
# (where in a site record, the value as raw JSON text). NaN and Infinity are not JSON
# but are what a careless client writes; 1e400 and a 400-digit integer overflow a float.
HOSTILE_SITE_VALUES = [
    ("location", '"POINT(NaN 22.1)"'),
    ("location", '{"type": "Point", "coordinates": [NaN, 22.1]}'),
    ("location", '{"type": "Point", "coordinates": [105.8, Infinity]}'),
    ("location", '{"type": "Point", "coordinates": [-Infinity, 22.1]}'),
    ("location", '{"type": "Point", "coordinates": [1e400, 22.1]}'),
    ("location", '{"type": "Point", "coordinates": [' + "9" * 400 + ", 22.1]}"),
    ("location", '{"type": "Point", "coordinates": ["105.8", 22.1]}'),
    ("location", '{"type": "Point", "coordinates": [true, 22.1]}'),
    ("location", '{"type": "Point", "coordinates": [null, 22.1]}'),
    ("location", '{"type": "Point", "coordinates": []}'),
    ("location", '{"type": "Point", "coordinates": [[105.8, 22.1]]}'),
    ("location", '{"type": "Point", "coordinates": "105.8 22.1"}'),
    ("location", '{"type": "Point"}'),
    ("location", '{"type": "LineString", "coordinates": [[105.8, 22.1], [105.9, 22.2]]}'),
    ("location", '{"type": "Point", "coordinates": [105.8, 22.1, 12]}'),
    ("location", "5"),
    ("location", "null"),
    ("location", "[105.8, 22.1]"),
    ("location", NESTED),
    ("id", "5"),
    ("id", "-1"),
    ("id", '"not-a-uuid"'),
    ("id", "null"),
    ("id", "NaN"),
    ("kind", "[]"),
    ("kind", "NaN"),
    ("kind", '"volcano"'),
    ("name", "{}"),
    ("name", '"Ao\\u0000nhà"'),
    ("notes", '"\\ud800"'),
    ("inspection.notes", '"a\\u0000b"'),
    ("name", '"Giếng\\u000b\\u0001\\u001b[31m ctrl"'),
    ("name", '"Ao\\tnhà"'),
    ("responsible_party", '"UBND\\u0085xã"'),
    ("notes", '"sâu\\u0007 2 m"'),
    ("inspection.notes", '"a\\u001bb"'),
    ("name", '"' + "x" * 100_000 + '"'),
    ("deep_water", '"maybe"'),
    ("deep_water", NESTED),
    ("depth_m", "NaN"),
    ("depth_m", "Infinity"),
    ("depth_m", "1e400"),
    ("depth_m", '"1e999999999"'),
    ("depth_m", "[]"),
    ("expected_end", '"2026-02-30"'),
    ("expected_end", '"99999-01-01"'),
    ("inspection", '"x"'),
    ("inspection", "[]"),
    ("inspection", "{}"),
    ("inspection", NESTED),
    ("inspection.inspected_at", '"9999-12-31T23:59:59-14:00"'),
    ("inspection.inspected_at", '"0001-01-01T00:00:00+14:00"'),
    ("inspection.inspected_at", '"2026-13-01T00:00:00Z"'),
    ("inspection.inspected_at", "1e400"),
    ("inspection.gps_fix", '"POINT(NaN 22.1)"'),
    ("inspection.gps_fix", '{"type": "Point", "coordinates": [NaN, NaN]}'),
    ("inspection.gps_accuracy_m", "NaN"),
    ("inspection.gps_accuracy_m", "Infinity"),
    ("inspection.gps_accuracy_m", "9" * 400),
    ("inspection.gps_accuracy_m", '"x"'),
    ("inspection.signage", "5"),
    ("inspection.water_depth_m", "NaN"),
    ("inspection.id", '"x"'),
]
HOSTILE_INSPECTION_VALUES = [
    ("site", "NaN"),
    ("site", '"x"'),
    ("site", NESTED),
    ("inspected_at", '"9999-12-31T23:59:59-14:00"'),
    ("inspected_at", "null"),
    ("gps_fix", '{"type": "Point", "coordinates": [Infinity, 22.1]}'),
    ("barrier", "{}"),
]
NOT_A_RECORD = ["5", '"x"', "null", "[]", "true", NESTED]


def with_raw(record: dict, where: str, raw: str) -> str:
    """The record as JSON text with the value at `where` (a.b for nested) replaced by raw text."""
    record = json.loads(json.dumps(record))
    target, *rest = where.split(".")
    holder = record
    if rest:
        holder, target = record[target], rest[0]
    marker = f"@@{uuid.uuid4().hex}@@"
    holder[target] = marker
    return json.dumps(record).replace(json.dumps(marker), raw)


def inspection_record(site_id, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "site": str(site_id),
        "inspected_at": timezone.now().isoformat(),
        "signage": "in_place",
        "barrier": "partial",
        **fields,
    }


def post_raw(api, name, body: str, **headers):
    return api.post(reverse(name), body, content_type="application/json", headers=headers)


def hostile_batch(commune, known) -> tuple[str, list]:
    """A batch in which each hostile record sits between good ones, and the outcomes
    expected: (type, id or None, status)."""
    sites, expected = [], []
    for where, raw in HOSTILE_SITE_VALUES:
        good = site_record(commune)
        bad = site_record(commune)
        sites += [json.dumps(good), with_raw(bad, where, raw)]
        expected += [("site", good["id"], 201), ("site", None if where == "id" else bad["id"], 400)]
    for raw in NOT_A_RECORD:
        sites.append(raw)
        expected.append(("site", None, 400))
    inspections = []
    for where, raw in HOSTILE_INSPECTION_VALUES:
        good = inspection_record(known.pk)
        bad = inspection_record(known.pk)
        inspections += [json.dumps(good), with_raw(bad, where, raw)]
        expected += [("inspection", good["id"], 201), ("inspection", bad["id"], 400)]
    inspections.append(NESTED)
    expected.append(("inspection", None, 400))
    return '{"sites": [' + ", ".join(sites) + '], "inspections": [' + ", ".join(inspections) + "]}", expected


def test_a_batch_answers_every_record_on_its_own(api, demo_tree, make_site):
    """Each hostile record is refused with a reason; the good ones around it are stored."""
    known = make_site(demo_tree["99101"])
    body, expected = hostile_batch(demo_tree["99101"], known)

    response = post_raw(api, "sync-batch", body)

    assert response.status_code == 200, response.content[:500]
    results = response.json()["results"]
    assert len(results) == len(expected)
    for result, (kind, record_id, status) in zip(results, expected, strict=True):
        assert (result["type"], result["status"]) == (kind, status), result
        if record_id is not None:
            assert result["id"] == record_id
        if status == 400:
            assert result["body"]["code"] == "invalid"
            assert result["body"]["detail"] and result["body"]["errors"], result
    stored = {str(pk) for pk in Site.objects.values_list("pk", flat=True)}
    assert stored == {str(known.pk)} | {r[1] for r in expected if r[0] == "site" and r[2] == 201}
    assert Inspection.objects.filter(site=known).count() == len(HOSTILE_INSPECTION_VALUES)


def test_every_refusal_says_in_vietnamese_and_in_english_what_to_fix(api, demo_tree, make_site):
    known = make_site(demo_tree["99101"])
    body, _expected = hostile_batch(demo_tree["99101"], known)
    english = post_raw(api, "sync-batch", body).json()["results"]
    vietnamese = post_raw(api, "sync-batch", body, **{"Accept-Language": "vi"}).json()["results"]
    refused = [(en, vi) for en, vi in zip(english, vietnamese, strict=True) if en["status"] == 400]
    assert len(refused) > 50
    for en, vi in refused:
        assert en["body"]["detail"] != vi["body"]["detail"], en["body"]["detail"]
        assert en["body"]["detail"].startswith("The record was refused: ")
        assert vi["body"]["detail"].startswith("Bản ghi bị từ chối: ")
    nan = with_raw(site_record(demo_tree["99101"]), "location", '{"type": "Point", "coordinates": [NaN, 22.1]}')
    response = post_raw(api, "sync-site", nan, **{"Accept-Language": "vi"})
    assert response.json()["errors"]["location"] == ["Vị trí không hợp lệ: kinh độ không phải là số."]


@pytest.mark.parametrize("name", ["sync-site", "sync-inspection"])
def test_single_records_with_hostile_values_get_400(api, demo_tree, make_site, name):
    known = make_site(demo_tree["99101"])
    if name == "sync-site":
        cases = [(site_record(demo_tree["99101"]), where, raw) for where, raw in HOSTILE_SITE_VALUES]
    else:
        cases = [(inspection_record(known.pk), where, raw) for where, raw in HOSTILE_INSPECTION_VALUES]
    for record, where, raw in [*cases, *((None, None, raw) for raw in NOT_A_RECORD)]:
        body = raw if record is None else with_raw(record, where, raw)
        response = post_raw(api, name, body)
        assert response.status_code == 400, (where, raw[:40], response.content[:300])
        assert response.json()["detail"]
    assert Site.objects.count() == 1 and not Inspection.objects.exists()


def test_a_control_character_is_refused_naming_the_field(api, demo_tree):
    """A control character would break every spreadsheet covering the site (F13): the
    record is refused with the field and the character named; line breaks in notes stay."""
    record = site_record(demo_tree["99101"], name="Giếng\x0b\x01\x1b[31m ctrl")
    response = post_raw(api, "sync-site", json.dumps(record))
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"]["name"] == [
        "Name contains the control character U+000B: remove it, then send again."
    ]
    record = site_record(demo_tree["99101"], notes="Bờ dốc.\r\n\tSâu 2 m.")
    assert post_raw(api, "sync-site", json.dumps(record)).status_code == 201
    assert Site.objects.get().notes == "Bờ dốc.\r\n\tSâu 2 m."


@pytest.mark.parametrize("character", ["\uffff", "\ufffe", "\ufdd0", "\U0001fffe"])
def test_a_noncharacter_is_refused_naming_the_field(api, demo_tree, character):
    """U+FFFE and U+FFFF passed the control-character rule, and XML cannot hold them: one
    tablet's site name made every XLSX export above it answer 500 (pentest P7)."""
    record = site_record(demo_tree["99101"], name=f"Ao {character} x")
    response = post_raw(api, "sync-site", json.dumps(record))
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"]["name"] == [
        f"Name contains U+{ord(character):04X}, which is no character: remove it, then send again."
    ]
    assert not Site.objects.exists()


def test_a_key_no_field_reads_is_ignored_whatever_it_holds(api, demo_tree):
    record = site_record(demo_tree["99101"])
    body = '{"\\ud800": [NaN], ' + json.dumps(record)[1:]
    first, again = (post_raw(api, "sync-site", body) for _attempt in range(2))
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replay"]) == (201, 201, "true")


def test_a_body_that_is_not_a_batch_is_refused_with_a_reason(api):
    for body in ["", "{", "[1, 2]", '{"sites": 5}', '{"sites": [], "inspections": {}}', NESTED]:
        response = post_raw(api, "sync-batch", body)
        assert response.status_code == 400, (body[:20], response.content[:200])
        assert response.json()["detail"]


# ---------- the same record twice at once ----------


def waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        # Within a transaction the activity view is a snapshot: take a new one each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def send_together(worker, requests, hold_sql: str) -> list:
    """Sends each (url name, JSON body) from its own thread and database connection while
    this connection holds a lock (hold_sql) that every one of them needs to write; once all
    wait on it, the lock goes and they race. Returns the responses in order."""
    clients = []
    for _request in requests:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(worker)
        clients.append(client)
    responses = [None] * len(requests)

    def send(i):
        try:
            name, body = requests[i]
            responses[i] = clients[i].post(reverse(name), body, content_type="application/json")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(hold_sql)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while waiting_for_locks() < len(requests):
            assert time.monotonic() < deadline, "the requests never reached the write"
            assert all(thread.is_alive() for thread in threads), responses
            time.sleep(0.02)
    for thread in threads:
        thread.join(60)
    return responses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["sync-site", "sync-batch"])
def test_the_same_new_site_sent_twice_at_once_is_a_replay(demo_tree, worker, endpoint):
    record = site_record(demo_tree["99101"])
    body = json.dumps(record if endpoint == "sync-site" else {"sites": [record]})
    responses = send_together(
        worker, [(endpoint, body), (endpoint, body)], "LOCK TABLE hazards_site IN SHARE ROW EXCLUSIVE MODE"
    )
    if endpoint == "sync-site":
        statuses = sorted((r.status_code, r.headers.get("Idempotent-Replay", "")) for r in responses)
        assert statuses == [(201, ""), (201, "true")], [r.content for r in responses]
        assert responses[0].json() == responses[1].json()
    else:
        outcomes = [r.json()["results"][0] for r in responses]
        assert [o["status"] for o in outcomes] == [201, 201], outcomes
        assert sorted(o["replay"] for o in outcomes) == [False, True]
        assert outcomes[0]["body"] == outcomes[1]["body"]
    assert Site.objects.count() == 1 and Inspection.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_new_inspection_sent_twice_at_once_is_a_replay(demo_tree, worker, make_site):
    site = make_site(demo_tree["99101"])
    body = json.dumps(inspection_record(site.pk))
    responses = send_together(
        worker,
        [("sync-inspection", body), ("sync-inspection", body)],
        f"SELECT FROM hazards_site WHERE id = '{site.pk}' FOR UPDATE",
    )
    statuses = sorted((r.status_code, r.headers.get("Idempotent-Replay", "")) for r in responses)
    assert statuses == [(201, ""), (201, "true")], [r.content for r in responses]
    assert Inspection.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_different_records_under_one_id_at_once_store_one(demo_tree, worker):
    record = site_record(demo_tree["99101"])
    other = {**record, "name": "Giếng làng"}
    responses = send_together(
        worker,
        [("sync-site", json.dumps(record)), ("sync-site", json.dumps(other))],
        "LOCK TABLE hazards_site IN SHARE ROW EXCLUSIVE MODE",
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert (loser.json()["code"], loser.json()["id"]) == ("id_conflict", record["id"])
    winner = next(r for r in responses if r.status_code == 201)
    assert Site.objects.get().name == ("Ao nhà ông Ba" if winner is responses[0] else "Giếng làng")
    assert Inspection.objects.count() == 1

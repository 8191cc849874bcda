"""The end of a campaign day, as Locust users against the production stack
(bench/load_bench.py starts both): tablets sync their outboxes with photos while
planners pan the map and open reports.

A tablet behaves as the survey app's outbox does: records carry their own UUIDs, a batch
and each photo are sent again after a network error, a 5xx, 408 or 429 (backoff with
jitter) until the server answers, and a record is "refused" only on another 4xx. Every
identity and record comes from the plan file (LOAD_PLAN) the benchmark wrote, so the
check afterwards knows exactly what must be stored. Only loopback is ever addressed."""

import io
import json
import os
import random
import time
import uuid
from urllib.parse import urlsplit

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser
from PIL import Image, ImageDraw

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115 - read once at start
RECORDS_PER_BATCH = PLAN["records_per_batch"]
MAX_BACKOFF_S = 20
RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
_tablets = iter(PLAN["tablets"])
_planners = iter(PLAN["planners"])
_done = {"tablets": 0}
STATS = {"retried": {}, "refused": 0}


def _camera_picture() -> bytes:
    """A photo as the tablet sends it: about 1600 px on the long edge, JPEG, a few hundred KB."""
    rng = random.Random(7)
    image = Image.new("RGB", (1600, 1200), (120, 170, 210))
    draw = ImageDraw.Draw(image)
    for _i in range(3000):
        x, y = rng.randrange(1600), rng.randrange(1200)
        draw.ellipse(
            [x, y, x + rng.randrange(4, 40), y + rng.randrange(4, 40)], fill=tuple(rng.randrange(256) for _ in range(3))
        )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


PICTURE = _camera_picture()


def _until_answered(user: HttpUser, name: str, method: str, path: str, **kwargs):
    """Until the server answers: after a network error, a 5xx, 408 or 429 the request is
    sent again (backoff with jitter), as the tablet's outbox does with a record that is not
    at fault and as a person reloads a page that says "try again in a minute". The other
    answers are returned. A 500 is tried again too, but counted as an error: it is a fault
    of the server, never the expected answer to a restart (that is a 503)."""
    backoff = 1.0
    while True:
        with user.client.request(method, path, name=name, catch_response=True, **kwargs) as response:
            status = response.status_code
            if status == 500:
                response.failure(f"500: {response.text[:200]}")
            elif status in RETRY_STATUSES or status == 0:
                response.success()  # counted, not failed: the request is sent again
                key = str(status or "network")
                STATS["retried"][key] = STATS["retried"].get(key, 0) + 1
            else:
                if status >= 400 and not (status == 409 and response.headers.get("Idempotent-Replay")):
                    response.failure(f"refused {status}: {response.text[:200]}")
                return response
        gevent.sleep(random.uniform(0, backoff))
        backoff = min(MAX_BACKOFF_S, backoff * 2)


def _loopback_only(environment, **kwargs):
    host = urlsplit(environment.host or "").hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the load test sends traffic only to this machine's loopback, not {host}")


events.init.add_listener(_loopback_only)


class Tablet(HttpUser):
    """A field worker's tablet with 50 records and 2 photos each to send."""

    fixed_count = PLAN["tablet_count"]
    wait_time = between(0.5, 2)

    def on_start(self):
        self.client.verify = False  # the stack's own self-signed certificate
        self.plan = next(_tablets)
        self.client.headers["Authorization"] = f"Token {self.plan['token']}"
        self.batches = [
            self.plan["records"][i : i + RECORDS_PER_BATCH]
            for i in range(0, len(self.plan["records"]), RECORDS_PER_BATCH)
        ]

    @task
    def sync_outbox(self):
        if not self.batches:
            _done["tablets"] += 1
            raise StopUser
        records = self.batches.pop(0)
        payload = {"sites": [], "inspections": []}
        for record in records:
            if record.get("site"):
                payload["sites"].append(record["site"])
            else:
                payload["inspections"].append(record["inspection"])
        device_time = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        response = _until_answered(
            self, "sync batch", "POST", "/api/v1/sync/batch/", json=payload, headers={"X-Device-Time": device_time}
        )
        if response.status_code >= 400:
            STATS["refused"] += len(records)
            return
        refused = [r for r in response.json().get("results", []) if r["status"] >= 400 and r["status"] != 409]
        if refused:
            STATS["refused"] += len(refused)
            events.request.fire(
                request_type="POST", name="sync batch: refused records", response_time=0, response_length=0,
                exception=Exception(json.dumps(refused[:2], ensure_ascii=False)[:300]), context={},
            )  # fmt: skip
        for record in records:
            for photo_id in record["photos"]:
                body = PICTURE + uuid.UUID(photo_id).bytes  # unique content, as every real photo is
                photo = _until_answered(
                    self,
                    "photo upload",
                    "PUT",
                    f"/api/v1/sync/photos/{photo_id}/?inspection={record['inspection_id']}",
                    data=body,
                    headers={"Content-Type": "image/jpeg", "Content-Disposition": 'attachment; filename="photo.jpg"'},
                )
                if photo.status_code >= 400 and photo.status_code != 409:
                    STATS["refused"] += 1


class Planner(HttpUser):
    """A district or provincial manager on the planner map and the report page."""

    fixed_count = PLAN["planner_count"]
    wait_time = between(1, 3)

    def on_start(self):
        self.client.verify = False
        self.plan = next(_planners)
        _until_answered(self, "sign-in page", "GET", "/accounts/login/")
        token = self.client.cookies.get("csrftoken", "")
        _until_answered(
            self,
            "sign in",
            "POST",
            "/accounts/login/",
            data={"username": self.plan["username"], "password": self.plan["password"], "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
        )
        self._renew_tile_token()

    def _renew_tile_token(self):
        """As static/mapping/map.js does: a new tile token every third of a token's life."""
        answer = _until_answered(self, "tile token", "GET", "/map/tile-token.json")
        self.tile_token = answer.json().get("token", "") if answer.status_code == 200 else ""
        self.tile_token_at = time.monotonic()

    def _stop_when_tablets_are_done(self):
        if _done["tablets"] >= PLAN["tablet_count"]:
            raise StopUser

    @task(6)
    def pan_the_map(self):
        self._stop_when_tablets_are_done()
        if time.monotonic() - self.tile_token_at >= PLAN["tile_token_seconds"] / 3:
            self._renew_tile_token()
        z, x, y = random.choice(PLAN["tiles"])
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                _until_answered(
                    self,
                    f"tile z{z}",
                    "GET",
                    f"/tiles/sites/{z}/{x + dx}/{y + dy}.pbf",
                    headers={"Authorization": f"Tile {self.tile_token}"},
                )
        west, south, east, north = PLAN["bbox"]
        _until_answered(self, "map list", "GET", f"/map/sites.json?bbox={west},{south},{east},{north}")

    @task(1)
    def open_the_report(self):
        self._stop_when_tablets_are_done()
        _until_answered(self, "report page", "GET", "/reports/")


@events.quitting.add_listener
def _write_stats(environment, **kwargs):
    with open(os.environ["LOAD_STATS"], "w") as out:
        json.dump({**STATS, "tablets_done": _done["tablets"]}, out)


@events.test_start.add_listener
def _stop_after_tablets(environment, **kwargs):
    def watch():
        while _done["tablets"] < PLAN["tablet_count"]:
            gevent.sleep(1)
        gevent.sleep(2)  # the planners' last requests
        environment.runner.quit()

    gevent.spawn(watch)

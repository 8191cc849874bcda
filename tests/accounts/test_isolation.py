"""A user of commune A cannot read, list, count, search, filter or change anything of
commune B through any registry endpoint, and a viewer cannot write."""

import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from accounts.tokens import token_issue
from hazards import services
from hazards.models import Inspection, Site
from tests.mapping.tiles_helpers import features, fetch_tile, tile_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo_tree, make_user, make_site, inspect, superuser):
    a_site = make_site(demo_tree["99101"], name="Ao của xã A")
    b_site = make_site(demo_tree["99201"], name="Ao của xã B")
    b_inspection = inspect(b_site, "2026-04-01T09:00")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="JPEG")
    services.photo_attach(actor=superuser, inspection=b_inspection, data=out.getvalue())
    user_a = make_user("a", demo_tree["99101"], Role.ADMINISTRATOR, is_staff=True)
    user_b = make_user("b", demo_tree["99201"], Role.FIELD_WORKER)
    token_issue(actor=superuser, user=user_b, name="tablet B")
    return {
        "a_site": a_site,
        "b_site": b_site,
        "b_inspection": b_inspection,
        "user_a": user_a,
        "user_b": user_b,
        "tree": demo_tree,
    }


@pytest.fixture
def as_a(client, world):
    client.force_login(world["user_a"])
    return client


LISTS = [
    "admin:hazards_site_changelist",
    "admin:hazards_inspection_changelist",
    "admin:areas_area_changelist",
    "admin:accounts_auditentry_changelist",
    "admin:accounts_user_changelist",
    "admin:accounts_devicetoken_changelist",
]


@pytest.mark.parametrize("name", LISTS)
def test_lists_and_counts_hold_nothing_of_b(as_a, world, name):
    response = as_a.get(reverse(name))
    assert response.status_code == 200
    b = world["b_site"]
    for secret in (b.code, b.name, str(b.pk), "Ao của xã B", "tablet B", "99201"):
        assert secret not in response.text
    changelist = response.context["cl"]
    assert changelist.full_result_count == changelist.result_count


@pytest.mark.parametrize(
    "query",
    [{"q": "Ao của xã B"}, {"within": "992"}, {"q": "99201"}, {"deleted": "yes"}, {"protection": "protected"}],
)
def test_search_and_filters_find_nothing_of_b(as_a, world, query):
    response = as_a.get(reverse("admin:hazards_site_changelist"), query)
    assert world["b_site"].code not in response.text
    assert all(s.area.code.startswith("99101") for s in response.context["cl"].result_list)


def test_pages_of_b_records_are_404(as_a, world):
    b, inspection = world["b_site"], world["b_inspection"]
    urls = [
        reverse("admin:hazards_site_change", args=[b.pk]),
        reverse("admin:hazards_site_delete", args=[b.pk]),
        reverse("admin:hazards_site_history", args=[b.pk]),
        reverse("admin:hazards_inspection_change", args=[inspection.pk]),
        reverse("admin:hazards_inspection_delete", args=[inspection.pk]),
        reverse("admin:areas_area_change", args=[world["tree"]["99201"].pk]),
    ]
    for url in urls:
        assert as_a.get(url).status_code == 404, url
    assert as_a.post(reverse("admin:hazards_site_delete", args=[b.pk]), {"post": "yes"}).status_code == 404
    assert Site.objects.filter(pk=b.pk).exists()


def test_bulk_actions_skip_b(as_a, world):
    b = world["b_site"]
    as_a.post(
        reverse("admin:hazards_site_changelist"),
        {"action": "delete_selected", "_selected_action": [b.pk], "post": "yes"},
    )
    assert Site.objects.filter(pk=b.pk).exists()


def test_autocomplete_offers_nothing_of_b(as_a, world):
    response = as_a.get(
        reverse("admin:autocomplete"),
        {"app_label": "hazards", "model_name": "inspection", "field_name": "site", "term": "Ao"},
    )
    assert response.status_code == 200
    ids = [r["id"] for r in response.json()["results"]]
    assert str(world["a_site"].pk) in ids and str(world["b_site"].pk) not in ids


def test_api_reads_hold_nothing_of_b(as_a, world):
    sites = as_a.get(reverse("survey-sites"))
    assert sites.status_code == 200
    version = sites["ETag"].removeprefix("W/").strip('"')
    for name, params in (
        ("survey-sites", {}),
        ("survey-sites-rest", {"version": version}),
        ("survey-areas", {}),
        ("survey-me", {}),
    ):
        response = as_a.get(reverse(name), params)
        assert response.status_code == 200, name
        body = response.text
        assert "99201" not in body and str(world["b_site"].pk) not in body and "xã B" not in body


def test_api_writes_to_b_are_404_without_a_hint(as_a, world):
    b, inspection = world["b_site"], world["b_inspection"]
    record = {
        "id": str(uuid.uuid4()),
        "site": str(b.pk),
        "inspected_at": timezone.now().isoformat(),
        "signage": "none",
        "barrier": "none",
    }
    assert as_a.post(reverse("sync-inspection"), record, content_type="application/json").status_code == 404
    clash = {
        "id": str(b.pk),
        "kind": "pond",
        "name": "x",
        "location": {"type": "Point", "coordinates": [105.85, 22.14]},
    }
    assert as_a.post(reverse("sync-site"), clash, content_type="application/json").status_code == 404
    replay = {
        "id": str(inspection.pk),
        "site": str(b.pk),
        "inspected_at": timezone.now().isoformat(),
        "signage": "none",
        "barrier": "none",
    }
    assert as_a.post(reverse("sync-inspection"), replay, content_type="application/json").status_code == 404
    photo = reverse("sync-photo", args=[uuid.uuid4()]) + f"?inspection={inspection.pk}"
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, format="JPEG")
    response = as_a.put(
        photo,
        out.getvalue(),
        content_type="image/jpeg",
        headers={"Content-Disposition": 'attachment; filename="p.jpg"'},
    )
    assert response.status_code == 404
    assert Inspection.objects.filter(site=b).count() == 1


def test_viewer_cannot_write(client, world, make_user):
    viewer = make_user("xem", world["tree"]["99"], Role.VIEWER, is_staff=True)
    client.force_login(viewer)
    a = world["a_site"]
    assert client.get(reverse("admin:hazards_site_changelist")).status_code == 200
    assert client.get(reverse("admin:hazards_site_add")).status_code == 403
    assert client.get(reverse("admin:hazards_inspection_add")).status_code == 403
    assert client.post(reverse("admin:hazards_site_delete", args=[a.pk]), {"post": "yes"}).status_code == 403
    change = client.post(reverse("admin:hazards_site_change", args=[a.pk]), {"name": "Đổi"})
    assert change.status_code == 403
    record = {
        "id": str(uuid.uuid4()),
        "site": str(a.pk),
        "inspected_at": timezone.now().isoformat(),
        "signage": "none",
        "barrier": "none",
    }
    assert client.post(reverse("sync-inspection"), record, content_type="application/json").status_code == 404
    a.refresh_from_db()
    assert a.name == "Ao của xã A" and not Inspection.objects.filter(site=a).exists()


def test_map_tiles_lists_and_panels_hold_nothing_of_b(as_a, world):
    b = world["b_site"]
    lon, lat = b.location.x, b.location.y
    for z in (4, 8, 10, 11, 14, 16):
        for filters in ({}, {"due": "true"}):
            tile = fetch_tile(as_a, *tile_of(lon, lat, z), **filters)
            assert str(b.pk) not in str(tile) and b.code not in str(tile)
            assert sum(f["properties"].get("n", 0) for f in features(tile, "clusters")) <= 1  # only A's own site
    box = f"{lon - 1},{lat - 1},{lon + 1},{lat + 1}"
    for name, query in (("map-sites", {"bbox": box}), ("map-priority", {}), ("map-areas", {})):
        body = as_a.get(reverse(name), query).text
        assert b.code not in body and str(b.pk) not in body and "99201" not in body
    assert b.code not in b"".join(as_a.get(reverse("map-priority-file")).streaming_content).decode()
    assert as_a.get(reverse("map-site-panel", args=[b.pk])).status_code == 404
    # B's areas asked for by code are refused in the words a code no area has gets.
    unknown = as_a.get(reverse("map-areas"), {"area": "99999"}).json()
    for code in ("99201", "992"):
        for name, query in (("map-areas", {}), ("map-sites", {"bbox": box}), ("site-tile", {})):
            url = reverse(name, args=tile_of(lon, lat, 14)) if name == "site-tile" else reverse(name)
            asked = as_a.get(url, {**query, "area": code})
            assert asked.status_code == 400 and asked.json()["errors"] == unknown["errors"], (name, code)

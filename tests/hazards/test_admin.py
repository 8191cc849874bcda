"""The admin: scoped lists, 404 outside the scope, and forms that write through the services."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Role
from hazards.models import Inspection, Site
from tests.conftest import inside

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(demo_tree, make_user):
    return make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)


@pytest.fixture
def two_sites(demo_tree, make_site):
    return make_site(demo_tree["99101"], name="Ao Suối Bạc"), make_site(demo_tree["99201"], name="Ao Bản Cọ")


def test_manager_lists_and_maps_only_own_district(client, manager, two_sites):
    client.force_login(manager)
    response = client.get(reverse("admin:hazards_site_changelist"))
    assert response.status_code == 200
    assert "Ao Suối Bạc" in response.text and "Ao Bản Cọ" not in response.text
    features = response.context["sites_geojson"]["features"]
    assert [f["properties"]["code"] for f in features] == [two_sites[0].code]


def test_other_district_site_is_404(client, manager, two_sites):
    client.force_login(manager)
    assert client.get(reverse("admin:hazards_site_change", args=[two_sites[1].pk])).status_code == 404
    assert client.get(reverse("admin:hazards_site_change", args=[two_sites[0].pk])).status_code == 200


def test_area_filter_narrows_to_a_subtree(client, superuser, two_sites):
    client.force_login(superuser)
    response = client.get(reverse("admin:hazards_site_changelist"), {"within": "992"})
    assert [s.code for s in response.context["cl"].result_list] == [two_sites[1].code]


def new_site(name: str, area, **fields) -> dict:
    """The admin's form for a new pond in `area`, as a manager fills it in."""
    return {
        "kind": "pond",
        "name": name,
        "location": inside(area).geojson,
        "active_from": "2026-01-05",
        "inspections-TOTAL_FORMS": "0",
        "inspections-INITIAL_FORMS": "0",
        **fields,
    }


def test_add_site_form_goes_through_the_service(client, manager, demo_tree):
    client.force_login(manager)
    data = new_site("Ao mới", demo_tree["99102"], deep_water="on", depth_m="2.5")
    response = client.post(reverse("admin:hazards_site_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    site = Site.objects.get(name="Ao mới")
    assert site.area.code == "99102" and site.created_by == manager and site.code.startswith("HZ-")


def test_add_site_outside_scope_shows_the_error(client, manager, demo_tree):
    client.force_login(manager)
    data = new_site("Ao xa", demo_tree["99301"])
    response = client.post(reverse("admin:hazards_site_add"), data)
    assert response.status_code == 200
    assert "outside the areas you work in" in response.text
    assert not Site.objects.exists()


def test_inspections_are_append_only_and_deleted_softly_in_admin(client, superuser, two_sites):
    client.force_login(superuser)
    site = two_sites[0]
    response = client.post(
        reverse("admin:hazards_inspection_add"),
        {
            "site": site.pk,
            "inspected_at_0": "2026-03-01",
            "inspected_at_1": "09:30",
            "signage": "in_place",
            "barrier": "complete",
            "water_present": "on",
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    inspection = Inspection.objects.get(site=site)
    site.refresh_from_db()
    assert site.is_protected
    change = client.get(reverse("admin:hazards_inspection_change", args=[inspection.pk]))
    assert change.status_code == 200 and 'name="signage"' not in change.text
    delete = client.post(reverse("admin:hazards_inspection_delete", args=[inspection.pk]), {"post": "yes"})
    assert delete.status_code == 302
    # Soft: gone from the registry and from the site's state, kept for restoring and audit.
    assert not Inspection.objects.filter(pk=inspection.pk).exists()
    assert Inspection.all_objects.get(pk=inspection.pk).deleted_by == superuser
    site.refresh_from_db()
    assert not site.is_protected and site.last_checked_at is None


def test_field_worker_has_no_admin(client, demo_tree, make_user):
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    client.force_login(worker)
    assert client.get(reverse("admin:hazards_site_changelist")).status_code == 302


def test_depths_and_accuracy_are_typed_as_a_vietnamese_officer_writes_them(client, manager, demo_tree):
    """Vietnamese writes decimals with a comma: "2,5" is 2.5 m, as on the tablet, and "2.5"
    too; a depth shows "2,5" in the Vietnamese form; what is no number is refused."""
    client.force_login(manager)
    data = new_site("Ao phẩy", demo_tree["99102"], deep_water="on", depth_m="2,5")
    assert client.post(reverse("admin:hazards_site_add"), data, HTTP_ACCEPT_LANGUAGE="vi").status_code == 302
    site = Site.objects.get(name="Ao phẩy")
    assert str(site.depth_m) == "2.50"
    change = client.get(reverse("admin:hazards_site_change", args=[site.pk]), HTTP_ACCEPT_LANGUAGE="vi")
    assert 'name="depth_m" value="2,50"' in change.text
    inspection = {
        "site": site.pk,
        "inspected_at_0": "2026-03-01",
        "inspected_at_1": "09:30",
        "signage": "in_place",
        "barrier": "partial",
        "water_present": "on",
        "water_depth_m": "1,25",
        "gps_accuracy_m": "4.5",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
    }
    assert (
        client.post(reverse("admin:hazards_inspection_add"), inspection, HTTP_ACCEPT_LANGUAGE="vi").status_code == 302
    )
    assert Inspection.objects.values_list("water_depth_m", "gps_accuracy_m").get() == (Decimal("1.25"), 4.5)
    for typed in ("2,5,1", "2.500,5", "hai"):
        refused = client.post(reverse("admin:hazards_site_add"), {**data, "name": typed, "depth_m": typed})
        assert refused.status_code == 200
        assert refused.context["adminform"].form.errors["depth_m"]
    assert not Site.objects.filter(name__in=["2,5,1", "2.500,5", "hai"]).exists()


@pytest.mark.parametrize("field", ["location", "outline"])
def test_a_geometry_gdal_cannot_read_is_a_form_error_not_a_server_error(client, manager, demo_tree, field):
    """JSON that is no geometry ('{"a": 1}') made the map widget, drawing the form again
    with its error, raise GDAL's error, which Django's widget does not catch: 500 (pentest 6)."""
    client.force_login(manager)
    response = client.post(reverse("admin:hazards_site_add"), new_site("Ao", demo_tree["99101"], **{field: '{"a": 1}'}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert not Site.objects.exists()


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("admin:accounts_devicetoken_add", {"user": "x"}),
        ("admin:reports_target_add", {"area": "\x00"}),
        ("admin:hazards_inspection_add", {"site": "1e309"}),
        (
            "admin:accounts_user_add",
            {"memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0", "memberships-0-area": "x"},
        ),
    ],
    ids=["device token's person", "target's area", "inspection's site", "membership's area"],
)
def test_a_choice_sent_that_names_no_record_is_a_form_error_not_a_server_error(client, superuser, url, data):
    """Drawing a form again with its errors, Django's autocomplete looks the value sent up
    as its model's key: one that is no key ('x', a NUL) raised there, a 500 (pentest 6)."""
    client.force_login(superuser)
    response = client.post(reverse(url), data)
    assert response.status_code in (200, 400)
    assert response.context["adminform"].form.errors or response.context["inline_admin_formsets"]


def test_a_record_page_offers_no_history_button_that_shows_nothing(client, superuser, two_sites):
    """Django's History button lists the admin's own log, which the registry does not
    write (its audit trail does): it said a site had no history under the site's full
    change history (walkthrough)."""
    client.force_login(superuser)
    site = two_sites[0]
    page = client.get(reverse("admin:hazards_site_change", args=[site.pk])).content.decode()
    assert "historylink" not in page
    assert "field-history" in page  # the site's own history, from the audit trail, is on the page

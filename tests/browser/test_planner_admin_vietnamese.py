"""What a provincial planner and an administrator read in the Vietnamese interface: counts
grouped by thousands as every other number ("1.234", not "1234"), the admin's dates as
the registry writes them (dd/mm/yyyy HH:MM, not "5 Tháng Mười Hai 2026"), and the audit
trail's sites by code and name, never by their UUID (walkthrough)."""

import datetime as dt
import json
import re
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AuditEntry, Role
from hazards import orders, services
from hazards.models import RemediationOrder
from tests.browser.conftest import login
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_the_orders_list_and_the_import_preview_group_their_counts(
    page, stack, demo_tree, make_user, make_site, tmp_path
):
    manager = make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    site = make_site(demo_tree["99101"], name="Ao nhà ông Ba")
    first = orders.order_open(
        actor=manager, site=site, party_kind="household", party_name="Hộ ông Ba", requirements=["sign"],
        deadline=timezone.localdate() + dt.timedelta(days=30), follow_up=manager,
    )  # fmt: skip
    # 1,233 more, verified long ago (one site may have any number of those).
    now = timezone.now()
    RemediationOrder.objects.bulk_create(
        RemediationOrder(
            site=site, party_kind="household", party_name=f"Hộ {n}", requirements=["sign"], follow_up=manager,
            deadline=first.deadline, state="verified", opened_at=now, opened_by=manager, verified_at=now,
        )
        for n in range(1233)
    )  # fmt: skip

    login(page, stack, "tinh")
    page.goto(f"{stack.url}/orders/")
    expect(page.locator("p.muted", has_text="yêu cầu")).to_have_text("1.234 yêu cầu")

    # A GeoPackage says how many features it holds: the preview writes that count.
    here = inside(demo_tree["99101"])
    features = [
        {"type": "Feature", "properties": {"ten": f"Ao {n}", "loai": "Ao"},
         "geometry": {"type": "Point", "coordinates": [here.x, here.y]}}
        for n in range(12345)
    ]  # fmt: skip
    source, path = tmp_path / "ao.geojson", tmp_path / "ao.gpkg"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(path), str(source), "-nln", "ao"], check=True)
    page.goto(f"{stack.url}/imports/")
    page.locator("input[name=file]").set_input_files(str(path))
    page.locator("form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("ao.gpkg")
    expect(page.get_by_text("Tệp có 12.345 dòng. Những dòng đầu:")).to_be_visible()


def test_the_admin_writes_its_dates_as_the_registry_does(page, stack, demo_tree, make_user, make_site, inspect):
    make_user("quantri", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True)
    site = make_site(demo_tree["99101"], name="Ao làng")
    inspect(site, "2026-11-05T14:30", "in_place", "complete")

    login(page, stack, "quantri")
    page.goto(f"{stack.url}/admin/hazards/site/")
    expect(page.locator("#result_list td.field-last_checked_at")).to_have_text("05/11/2026 14:30")
    page.goto(f"{stack.url}/admin/hazards/inspection/")
    expect(page.locator("#result_list td.field-observed_at")).to_have_text("05/11/2026 14:30")
    # The drill-down by date names the month and the day as the rest of the registry.
    expect(page.locator(".toplinks a", has_text="2026")).to_be_visible()
    page.locator(".toplinks a", has_text="2026").click()
    expect(page.locator(".toplinks a", has_text="11/2026")).to_be_visible()
    page.locator(".toplinks a", has_text="11/2026").click()
    expect(page.locator(".toplinks a", has_text="05/11")).to_be_visible()
    page.goto(f"{stack.url}/admin/accounts/auditentry/")
    at = page.locator("#result_list th.field-at, #result_list td.field-at").first.inner_text()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", at), at
    page.locator("#result_list th.field-at a").first.click()
    expect(page.locator(".field-at .readonly")).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$"))
    assert "Tháng" not in page.locator("#content").inner_text()


def test_the_audit_trail_names_sites_by_code_and_name(page, stack, demo_tree, make_user, make_site, superuser):
    """A district's administrator reads a site of the district by code and name, with a
    link to it, a deleted one by its code; a site since moved to another district shows
    nothing of itself; no page of the trail shows a UUID."""
    make_user("quantri", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True)
    home = make_site(demo_tree["99101"], name="Ao làng")
    services.site_update(actor=superuser, site=home, name="Ao làng Đông")
    gone = make_site(demo_tree["99102"], name="Hồ bí mật")
    services.site_update(actor=superuser, site=gone, location=inside(demo_tree["99201"]))
    assert AuditEntry.objects.filter(site_id=gone.pk, area_path__startswith="/99/991/").exists()
    removed = make_site(demo_tree["99101"], name="Ao đã lấp")
    services.site_delete(actor=superuser, site=removed)

    login(page, stack, "quantri")
    page.goto(f"{stack.url}/admin/accounts/auditentry/")
    listed = page.locator("#result_list").inner_text()
    assert f"{home.code} · Ao làng Đông" in listed
    assert gone.code not in listed and "Hồ bí mật" not in listed
    # A deleted site of the district, which its administrator may restore: by its code.
    assert f"{removed.code} (đã xóa)" in listed
    expect(page.locator("#result_list a", has_text=removed.code)).to_have_count(0)
    assert not UUID.search(listed), UUID.search(listed)
    page.locator("#result_list a", has_text=f"{home.code} · Ao làng Đông").first.click()
    page.wait_for_url(f"**/admin/hazards/site/{home.pk}/change/")

    # Each entry's own page: the site by name, linked, and no UUID in its title or fields.
    for entry in AuditEntry.objects.filter(site_id__in=[home.pk, gone.pk], area_path__startswith="/99/991/"):
        page.goto(f"{stack.url}/admin/accounts/auditentry/{entry.pk}/change/")
        content = page.locator("#content").inner_text() + page.title()
        assert not UUID.search(content), (entry.pk, UUID.search(content))
        if entry.site_id == home.pk:
            expect(page.locator(".field-site_shown a")).to_have_text(f"{home.code} · Ao làng Đông")
        else:
            # The entry's own changes are the district's history, theirs to read; the site
            # as it is now is not named, nor linked.
            for field in ("site_shown", "record_shown"):
                expect(page.locator(f".field-{field} .readonly")).to_have_text("-")

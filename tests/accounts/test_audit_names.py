"""What the audit trail names: the record an entry is about, and a record one of its changed
values points to, by name only to a reader who may see that record now (the one scope
check: accounts/scope.py, through the selectors of the app that keeps it), as the site's
page names the site it duplicates; a photo as a person recognises it, by its site and its
date, not its file's hash."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import AuditEntry, Role
from hazards import lifecycle, orders, services
from hazards.models import SiteMerge

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged_away(settings, tmp_path, demo_tree, make_site, inspect, superuser):
    """A pond of district 991 with an inspection, its photo and an order, merged by the
    province into a pond of district 992: they all go to the pond kept, which 991's
    administrators may not see, while their entries of before stay in 991's trail."""
    settings.MEDIA_ROOT = tmp_path / "media"
    duplicate = make_site(demo_tree["99101"], name="Ao trùng")
    kept = make_site(demo_tree["99201"], name="Ao huyện bên")
    inspection = inspect(duplicate, "2026-05-02T09:00", signage="none", barrier="none")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(picture, format="JPEG")
    photo, _created = services.photo_attach(actor=superuser, inspection=inspection, data=picture.getvalue())
    order = orders.order_open(
        actor=superuser, site=duplicate, party_kind="household", party_name="Hộ ông Ba", requirements=["sign"],
        deadline=timezone.localdate() + dt.timedelta(days=30), follow_up=superuser,
    )  # fmt: skip
    lifecycle.site_merge(actor=superuser, duplicate=duplicate, kept=kept)
    return {"duplicate": duplicate, "kept": kept, "inspection": inspection, "photo": photo, "order": order}


def history_of(page: str) -> str:
    """The site page's change history (the page's other fields are not the trail)."""
    return re.search(r'<table class="audit-history">.*?</table>', page, re.S).group(0)


def records_listed(client) -> dict[str, str]:
    """The audit list's record column, by record type."""
    page = client.get(
        reverse("admin:accounts_auditentry_changelist"),
    ).text
    rows = re.findall(r'<td class="field-table_shown">(.*?)</td><td class="field-record_shown">(.*?)</td>', page)
    return {table: record for table, record in rows}


def test_a_changed_value_names_a_site_only_to_who_may_see_it(client, demo_tree, make_user, superuser, merged_away):
    """The pond merged away became "duplicate of" the pond of 992 and its inspection moved
    there: 991's administrator reads those changes, without the other district's pond."""
    duplicate, kept = merged_away["duplicate"], merged_away["kept"]
    client.force_login(make_user("quantri", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True))
    history = history_of(client.get(reverse("admin:hazards_site_change", args=[duplicate.pk])).text)
    assert "Duplicate of: – → -" in history
    assert kept.code not in history and "Ao huyện bên" not in history
    entries = AuditEntry.objects.filter(area_path__startswith="/99/991/")
    assert (
        entries.filter(table="hazards_photo").exists() and entries.filter(changes__has_key="duplicate_of_id").exists()
    )
    for entry in entries:
        page = client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk])).text
        assert kept.code not in page and "Ao huyện bên" not in page, (entry.table, entry.changes)
        assert str(kept.pk) not in page

    # The province's administrator sees both ponds: the value by the kept pond's code and name.
    client.force_login(superuser)
    history = history_of(client.get(reverse("admin:hazards_site_change", args=[duplicate.pk])).text)
    assert f"Duplicate of: – → {kept.code} · Ao huyện bên" in history


def test_the_site_page_names_the_site_it_duplicates_only_to_who_may_see_it(
    client, demo_tree, make_user, superuser, merged_away
):
    duplicate, kept = merged_away["duplicate"], merged_away["kept"]
    client.force_login(make_user("quantri", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True))
    page = client.get(reverse("admin:hazards_site_change", args=[duplicate.pk])).text
    shown = re.search(r'field-duplicate_of_shown.*?<div class="readonly">(.*?)</div>', page, re.S).group(1)
    assert shown == "-" and kept.code not in page and "Ao huyện bên" not in page
    client.force_login(superuser)
    page = client.get(reverse("admin:hazards_site_change", args=[duplicate.pk])).text
    shown = re.search(r'field-duplicate_of_shown.*?<div class="readonly">(.*?)</div>', page, re.S).group(1)
    assert shown == f"{kept.code} · Ao huyện bên"


def test_an_entry_names_its_record_only_to_who_may_see_it(client, demo_tree, make_user, superuser, merged_away):
    """The inspection, photo and order of the pond merged away are of the other district's
    pond now: 991's entries about them, in 991's trail, name them to nobody in 991."""
    duplicate, kept = merged_away["duplicate"], merged_away["kept"]
    observed = f"{timezone.localtime(merged_away['inspection'].observed_at):%d/%m/%Y %H:%M}"
    client.force_login(make_user("quantri", demo_tree["991"], Role.ADMINISTRATOR, is_staff=True))
    listed = records_listed(client)
    assert listed["Inspection"] == listed["Photo"] == listed["Remediation order"] == "-", listed
    assert listed["Site"] == f"{duplicate.code} (deleted)"
    for table in ("hazards_inspection", "hazards_photo", "hazards_remediationorder"):
        entry = AuditEntry.objects.get(table=table, action="insert")
        page = client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk])).text
        assert kept.code not in page, table

    client.force_login(superuser)
    listed = records_listed(client)
    assert listed["Inspection"] == listed["Photo"] == f"{kept.code} · {observed}", listed
    assert listed["Remediation order"].startswith(f"{kept.code} · "), listed


def test_a_photo_is_named_by_its_site_and_date(client, demo_tree, make_site, inspect, superuser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    site = make_site(demo_tree["99101"], name="Ao ảnh")
    inspection = inspect(site, "2026-05-02T09:00")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 20)).save(picture, format="JPEG")
    photo, _created = services.photo_attach(actor=superuser, inspection=inspection, data=picture.getvalue())
    client.force_login(superuser)
    assert records_listed(client)["Photo"] == f"{site.code} · 02/05/2026 09:00"
    entry = AuditEntry.objects.get(table="hazards_photo")
    page = client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk])).text
    record = re.search(r'field-record_shown.*?<div class="readonly">(.*?)</div>', page, re.S).group(1)
    assert record == f"{site.code} · 02/05/2026 09:00" and photo.sha256[:12] not in record


def test_the_merges_list_names_the_duplicate_only_to_who_may_see_it(
    client, demo_tree, make_user, superuser, merged_away
):
    """The merge is the kept pond's (district 992): its administrator lists it and opens
    it, and read the code and name of the pond of 991 merged into theirs, and, once the
    merge was undone, the inspections that went back to it by that pond's code."""
    duplicate, kept = merged_away["duplicate"], merged_away["kept"]
    merge = SiteMerge.objects.get(kept=kept)
    changelist = reverse("admin:hazards_sitemerge_changelist")
    change = reverse("admin:hazards_sitemerge_change", args=[merge.pk])
    history = reverse("admin:hazards_sitemerge_history", args=[merge.pk])

    def shown(page: str, field: str) -> str:
        return re.search(rf'field-{field}.*?<div class="readonly">(.*?)</div>', page, re.S).group(1)

    client.force_login(make_user("quantri", demo_tree["992"], Role.ADMINISTRATOR, is_staff=True))
    for url in (changelist, change, history):
        page = client.get(url).text
        assert duplicate.code not in page and "Ao trùng" not in page, url
    listed = client.get(changelist).text
    assert '<td class="field-duplicate_shown">-</td>' in listed and f"{kept.code} · Ao huyện bên" in listed
    observed = f"{timezone.localtime(merged_away['inspection'].observed_at):%d/%m/%Y %H:%M}"
    assert shown(client.get(change).text, "inspections_moved") == f"{kept.code} · {observed}"
    lifecycle.merge_undo(actor=superuser, merge=merge)
    page = client.get(change).text
    assert shown(page, "duplicate_shown") == shown(page, "inspections_moved") == "-"
    assert duplicate.code not in page and "Ao trùng" not in page

    # The province's administrator sees both ponds: the merge names them.
    client.force_login(superuser)
    page = client.get(change).text
    assert shown(page, "duplicate_shown") == f"{duplicate.code} · Ao trùng"
    assert shown(page, "kept_shown") == f"{kept.code} · Ao huyện bên"
    assert shown(page, "inspections_moved") == f"{duplicate.code} · {observed}"

"""Closing, reopening and merging sites through the REST API, the site's admin page and
the map's site panel; closure proposals from tablets and a manager's decision."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.models import Role
from hazards import lifecycle
from hazards.models import ClosureProposal, Site, SiteMerge

pytestmark = [pytest.mark.django_db, pytest.mark.frozen("2026-03-15T10:00")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = dt.date.fromisoformat


@pytest.fixture
def manager(demo_tree, make_user):
    return make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)


@pytest.fixture
def worker(demo_tree, make_user):
    return make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)


@pytest.fixture
def site(demo_tree, make_site):
    return make_site(demo_tree["99101"], name="Ao A", active_from=D("2025-01-01"))


def post(client, name, pk, data):
    return client.post(reverse(name, args=[pk]), data, content_type="application/json")


def test_a_manager_closes_and_reopens_a_site_through_the_api(client, manager, site):
    client.force_login(manager)
    refused = post(client, "site-close", site.pk, {"reason": "dug", "closed_at": "2025-04-01"})
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    early = post(client, "site-close", site.pk, {"reason": "drained", "closed_at": "2024-04-01"})
    assert early.status_code == 400 and "before it became active" in early.json()["errors"]["closed_at"][0]
    closed = post(client, "site-close", site.pk, {"reason": "drained", "closed_at": "2025-04-01", "note": "dry"})
    assert closed.status_code == 200
    assert closed.json()["properties"]["closed_at"] == "2025-04-01"
    assert closed.json()["properties"]["close_reason"] == "drained"
    reopened = post(client, "site-reopen", site.pk, {"reopened_on": "2025-09-01"})
    assert reopened.status_code == 200 and reopened.json()["properties"]["closed_at"] is None
    site.refresh_from_db()
    assert site.current_since == D("2025-09-01")


def test_field_workers_and_other_districts_cannot_close(client, demo_tree, worker, make_user, site):
    client.force_login(worker)
    assert post(client, "site-close", site.pk, {"reason": "drained"}).status_code == 404
    client.force_login(make_user("ho", demo_tree["992"], Role.AREA_MANAGER))
    assert post(client, "site-close", site.pk, {"reason": "drained"}).status_code == 404
    assert Site.objects.get(pk=site.pk).closed_at is None


def test_a_manager_merges_a_duplicate_by_its_code(client, demo_tree, make_site, manager, site):
    copy = make_site(demo_tree["99101"], name="Ao A (copy)", active_from=D("2025-03-01"))
    client.force_login(manager)
    missing = post(client, "site-merge", copy.pk, {"into": "HZ-999999"})
    assert missing.status_code == 400 and "No site HZ-999999" in missing.json()["errors"]["into"][0]
    merged = post(client, "site-merge", copy.pk, {"into": site.code.lower()})
    assert merged.status_code == 200 and merged.json()["id"] == str(site.pk)
    assert SiteMerge.objects.get().duplicate_id == copy.pk
    assert not Site.objects.filter(pk=copy.pk).exists()


def test_a_site_closed_as_a_duplicate_is_answered_as_it_now_is(client, demo_tree, make_site, manager, site):
    """Closing as a duplicate merges the site away (hidden from every list); the answer
    still describes it, closed and naming the site kept."""
    copy = make_site(demo_tree["99101"], name="Ao A (copy)", active_from=D("2025-03-01"))
    client.force_login(manager)
    closed = post(client, "site-close", copy.pk, {"reason": "duplicate", "duplicate_of": site.code})
    assert closed.status_code == 200 and closed.json()["id"] == str(copy.pk)
    assert closed.json()["properties"]["close_reason"] == "duplicate"
    assert closed.json()["properties"]["state"] == "closed"


def proposal(site, **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "site": str(site.pk),
        "reason": "filled_in",
        "note": "San lấp xong",
        "observed_at": "2026-03-10T09:00:00+07:00",
        **extra,
    }


def test_a_tablet_proposes_a_closure_and_a_manager_confirms(client, worker, manager, site):
    client.force_login(worker)
    record = proposal(site)
    url = reverse("sync-closure")
    first = client.post(url, record, content_type="application/json")
    assert first.status_code == 201 and first.json()["status"] == "pending"
    replay = client.post(url, record, content_type="application/json")
    assert replay.status_code == 201 and replay["Idempotent-Replay"] == "true"
    clash = client.post(url, {**record, "reason": "drained"}, content_type="application/json")
    assert clash.status_code == 409
    bad = client.post(url, proposal(site, reason="vanished"), content_type="application/json")
    assert bad.status_code == 400
    assert ClosureProposal.objects.count() == 1

    client.force_login(manager)
    waiting = client.get(reverse("closure-proposal-list"), {"status": "pending"}).json()
    assert [(p["site_code"], p["reason"], p["proposed_by"]) for p in waiting] == [(site.code, "filled_in", "lan")]
    confirmed = post(client, "closure-confirm", record["id"], {})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    site.refresh_from_db()
    assert (site.closed_at, site.close_reason, site.close_note) == (D("2026-03-10"), "filled_in", "San lấp xong")
    again = post(client, "closure-confirm", record["id"], {})
    assert again.status_code == 400 and "already decided" in again.json()["errors"]["non_field_errors"][0]


def test_a_manager_declines_a_proposal_saying_why(client, worker, manager, site):
    record = proposal(site)
    client.force_login(worker)
    client.post(reverse("sync-closure"), record, content_type="application/json")
    assert post(client, "closure-decline", record["id"], {"note": "no"}).status_code == 404  # workers do not decide
    client.force_login(manager)
    silent = post(client, "closure-decline", record["id"], {})
    assert silent.status_code == 400 and "Say why" in silent.json()["errors"]["note"][0]
    declined = post(client, "closure-decline", record["id"], {"note": "Ao vẫn còn nước sâu"})
    assert declined.status_code == 200 and declined.json()["decision_note"] == "Ao vẫn còn nước sâu"
    assert Site.objects.get(pk=site.pk).closed_at is None


def test_a_tablet_reads_its_workers_proposals_and_the_decisions(client, demo_tree, make_user, worker, manager, site):
    other_worker = make_user("hoa", demo_tree["99101"], Role.FIELD_WORKER)
    for who, record in ((worker, proposal(site)), (other_worker, proposal(site, reason="drained"))):
        client.force_login(who)
        assert client.post(reverse("sync-closure"), record, content_type="application/json").status_code == 201
    mine = ClosureProposal.objects.get(proposed_by=worker)
    lifecycle.closure_decline(actor=manager, proposal=mine, note="Ao vẫn còn nước sâu")
    client.force_login(worker)
    answer = client.get(reverse("survey-proposals"))
    assert answer.json()["proposals"] == [
        {
            "id": str(mine.pk),
            "site": str(site.pk),
            "site_code": site.code,
            "site_name": "Ao A",
            "reason": "filled_in",
            "reason_label": "Filled in",
            "note": "San lấp xong",
            "observed_at": "2026-03-10T02:00:00+00:00",
            "status": "declined",
            "decided_at": "2026-03-15T03:00:00+00:00",  # the frozen now
            "decided_by": "nam",
            "decision_note": "Ao vẫn còn nước sâu",
        }
    ]
    # Kept by the tablet: unchanged, it costs a 304.
    assert client.get(reverse("survey-proposals"), headers={"If-None-Match": answer["ETag"]}).status_code == 304
    # Moved to another commune, the worker no longer reads the site nor their proposal.
    membership = worker.memberships.get()
    membership.area = demo_tree["99201"]
    membership.save()
    assert client.get(reverse("survey-proposals")).json()["proposals"] == []


def test_the_site_page_closes_reopens_and_merges(client, demo_tree, make_site, manager, site):
    client.force_login(manager)
    page = client.get(reverse("admin:hazards_site_change", args=[site.pk]))
    assert reverse("admin:hazards_site_close", args=[site.pk]) in page.text
    url = reverse("admin:hazards_site_close", args=[site.pk])
    refused = client.post(url, {"reason": "filled_in", "closed_at": "2030-01-01"})
    assert refused.status_code == 400 and "cannot be in the future" in refused.text  # a refusal, said why
    assert client.post(url, {"reason": "fenced_off", "closed_at": "2025-06-01"}).status_code == 302
    site.refresh_from_db()
    assert (site.closed_at, site.close_reason) == (D("2025-06-01"), "fenced_off")
    page = client.get(reverse("admin:hazards_site_change", args=[site.pk]))
    assert "Closed on 01/06/2025: Fenced off permanently." in page.text
    reopen = reverse("admin:hazards_site_reopen", args=[site.pk])
    assert client.post(reopen, {"reopened_on": "2025-07-01"}).status_code == 302
    copy = make_site(demo_tree["99101"], name="Ao A bis", active_from=D("2025-02-01"))
    merge = reverse("admin:hazards_site_merge", args=[copy.pk])
    assert client.post(merge, {"into": site.code}).status_code == 302
    assert Site.all_objects.get(pk=copy.pk).duplicate_of_id == site.pk


def test_the_site_page_shows_a_proposal_and_the_manager_decides_there(client, worker, manager, site):
    lifecycle.closure_propose(
        actor=worker, site=site, reason="drained", observed_at=dt.datetime(2026, 3, 1, 9, tzinfo=VN)
    )
    client.force_login(manager)
    page = client.get(reverse("admin:hazards_site_change", args=[site.pk]))
    assert "lan proposes to close this site (Drained, seen on 01/03/2026)." in page.text
    pending = ClosureProposal.objects.get()
    url = reverse("admin:hazards_closureproposal_change", args=[pending.pk])
    assert client.post(url, {"decision": "confirm"}).status_code == 302
    site.refresh_from_db()
    assert (site.closed_at, site.close_reason) == (D("2026-03-01"), "drained")


def test_a_decision_the_registry_refuses_is_shown_on_the_proposal_not_dropped(client, worker, manager, site, inspect):
    """Declining without a reason, or confirming a closure dated before the site's last
    check, is refused: the manager must see why, on the proposal's page (the admin
    carried on as if the page's read-only fields had been saved, redirected to the list
    and the proposal stayed pending without a word)."""
    inspect(site, "2026-03-05T09:00", "none", "none")
    pending = lifecycle.closure_propose(
        actor=worker, site=site, reason="drained", observed_at=dt.datetime(2026, 3, 10, 9, tzinfo=VN)
    )
    client.force_login(manager)
    url = reverse("admin:hazards_closureproposal_change", args=[pending.pk])
    declined = client.post(url, {"decision": "decline", "note": " "})
    assert declined.status_code == 400 and "Say why the site stays open" in declined.text
    early = client.post(url, {"decision": "confirm", "closed_at": "2026-03-01"})
    assert early.status_code == 400 and "inspected on 05/03/2026" in early.text
    pending.refresh_from_db()
    site.refresh_from_db()
    assert (pending.status, site.closed_at) == ("pending", None)
    assert client.post(url, {"decision": "decline", "note": "Còn nước"}).status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == ("declined", "Còn nước")


def test_an_administrator_undoes_a_merge_from_the_admin(client, demo_tree, make_site, superuser, manager, site):
    copy = make_site(demo_tree["99101"], name="Ao A bis", active_from=D("2025-02-01"))
    merge = lifecycle.site_merge(actor=manager, duplicate=copy, kept=site)
    client.force_login(manager)
    listing = client.get(reverse("admin:hazards_sitemerge_changelist"))
    assert listing.status_code == 200 and "undo_merges" not in listing.text
    client.force_login(superuser)
    changelist = reverse("admin:hazards_sitemerge_changelist")
    client.post(changelist, {"action": "undo_merges", "_selected_action": [merge.pk]})
    merge.refresh_from_db()
    assert merge.reversed_by == superuser and Site.objects.filter(pk=copy.pk).exists()


def test_the_map_panel_offers_closing_to_managers_only(client, demo_tree, make_user, manager, site):
    client.force_login(manager)
    panel = client.get(reverse("map-site-panel", args=[site.pk])).text
    assert f'action="{reverse("site-close", args=[site.pk])}"' in panel and 'name="reason"' in panel
    client.force_login(make_user("xem", demo_tree["99"], Role.VIEWER))
    assert "data-panel-form" not in client.get(reverse("map-site-panel", args=[site.pk])).text

"""Campaigns: every counting site of the area that is unverified or not protected goes
to a field worker of its commune; the board counts progress per commune."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import Role, User
from accounts.scope import SURVEY, OutOfScope, scope_for
from hazards import campaign_files, campaigns, lifecycle, orders, services
from hazards.models import CampaignAssignment
from hazards.order_pages import AssignForm
from hazards.order_selectors import BOARD_COLUMNS, BoardRow, campaign_board, campaigns_for
from hazards.selectors import AWAITING_VERIFICATION, CAMPAIGN_SITE, survey_site_list
from tests.conftest import inside
from tests.hazards.site_list import list_rows

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, 0, tzinfo=TZ), tick=False) as traveller:
        yield traveller


@pytest.fixture
def province(demo_tree, make_user, make_site, inspect):
    people = {
        "manager": make_user("quanly", demo_tree["99"], Role.AREA_MANAGER),
        "an": make_user("an", demo_tree["99101"], Role.FIELD_WORKER),
        "binh": make_user("binh", demo_tree["99101"], Role.FIELD_WORKER),
        "district_worker": make_user("cuong", demo_tree["991"], Role.FIELD_WORKER),
        "commune_manager": make_user("dung", demo_tree["99102"], Role.AREA_MANAGER),
    }
    c1, c2, c3 = demo_tree["99101"], demo_tree["99102"], demo_tree["99201"]
    sites = {
        "never_checked": make_site(c1),
        "unprotected": make_site(c1),
        "protected_fresh": make_site(c1),
        "protected_stale": make_site(c2, active_from=dt.date(2024, 1, 1)),
        "shallow": make_site(c2, deep_water=False),
        "closed": make_site(c2),
        "no_worker": make_site(c3),
    }
    inspect(sites["unprotected"], "2026-03-01T08:00", signage="in_place", barrier="none")
    inspect(sites["protected_fresh"], "2026-03-01T08:00")
    inspect(sites["protected_stale"], "2024-06-01T08:00")
    lifecycle.site_close(actor=people["manager"], site=sites["closed"], reason="filled_in")
    return people, sites


def start(people, demo_tree, **fields):
    values = {"name": "Trước hè 2026", "area": demo_tree["99"], "starts_on": dt.date(2026, 4, 1),
              "ends_on": dt.date(2026, 5, 31)}  # fmt: skip
    values.update(fields)
    return campaigns.campaign_start(actor=people["manager"], **values)


def test_campaign_assigns_unverified_or_unprotected_counting_sites(province, demo_tree):
    people, sites = province
    campaign = start(people, demo_tree)
    assigned = {a.site_id: a for a in CampaignAssignment.objects.filter(campaign=campaign)}
    assert set(assigned) == {sites[k].pk for k in ("never_checked", "unprotected", "protected_stale", "no_worker")}
    # Two workers of commune 99101 share its sites; the district's worker takes 99102,
    # which has none of its own; nobody works in 99201 (editable on the board).
    assert {assigned[sites["never_checked"].pk].worker, assigned[sites["unprotected"].pk].worker} == {
        people["an"],
        people["binh"],
    }
    assert assigned[sites["protected_stale"].pk].worker == people["district_worker"]
    assert assigned[sites["protected_stale"].pk].protected_at_start is True
    assert assigned[sites["no_worker"].pk].worker is None


def test_board_counts_checks_protection_and_orders(province, demo_tree, inspect, frozen):
    people, sites = province
    campaign = start(people, demo_tree)
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    inspect(sites["never_checked"], "2026-04-10T08:00")
    order = orders.order_open(
        actor=people["manager"], site=sites["unprotected"], party_kind="household", party_name="Hộ bà Tư",
        requirements=["barrier"], deadline=dt.date(2026, 4, 30), follow_up=people["an"],
    )  # fmt: skip
    frozen.move_to(dt.datetime(2026, 4, 20, 9, 0, tzinfo=TZ))
    inspect(sites["unprotected"], "2026-04-20T08:00")
    order.refresh_from_db()
    assert order.state == "verified"
    rows, totals = campaign_board(campaign, people["manager"])
    by_code = {r.area.code: r.counts for r in rows}
    assert by_code["99101"] == {
        "sites": 2, "checked": 2, "protected_before": 0, "protected_now": 2, "unassigned": 0,
        "orders_opened": 1, "orders_verified": 1,
    }  # fmt: skip
    assert by_code["99102"]["protected_before"] == 1 and by_code["99102"]["checked"] == 0
    assert by_code["99201"]["unassigned"] == 1
    assert totals["sites"] == 4 and totals["checked"] == 2
    # A commune manager sees the provincial campaign, with the commune's share only.
    assert list(campaigns_for(people["commune_manager"])) == [campaign]
    rows, totals = campaign_board(campaign, people["commune_manager"])
    assert [r.area.code for r in rows] == ["99102"] and totals["sites"] == 1


def test_a_site_moved_after_the_start_stays_on_its_first_commune_row(province, demo_tree, frozen):
    """The board's rows are the communes the sites lay in at the start, of the reader's
    areas; a site moved since counts on its first commune's row, for whoever sees both
    that commune and the site now (the board reaches a province's share through those
    communes, hazards.order_selectors.campaign_board)."""
    people, sites = province
    campaign = start(people, demo_tree)
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    services.site_update(actor=people["manager"], site=sites["never_checked"], location=inside(demo_tree["99102"]))
    rows, totals = campaign_board(campaign, people["manager"])
    assert {r.area.code: r.counts["sites"] for r in rows} == {"99101": 2, "99102": 1, "99201": 1}
    # The commune manager of 99102 sees the site now but not its first commune: neither
    # a row for a commune outside their area nor the site on theirs.
    rows, totals = campaign_board(campaign, people["commune_manager"])
    assert [r.area.code for r in rows] == ["99102"] and totals["sites"] == 1


def first_in_due_list(user) -> dict:
    """{site id: (rank, order state, order deadline)} of the sites the tablet puts first,
    from the site list it fetches (hazards.selectors.survey_site_list)."""
    rows = list_rows(survey_site_list(user, timezone.now()))
    return {row["id"]: (row["first"], row["order_state"], row["order_deadline"]) for row in rows if row["first"]}


def test_campaign_sites_come_first_for_their_worker_until_checked(province, demo_tree, inspect, frozen):
    people, _sites = province
    start(people, demo_tree)
    assigned_to_an = str(CampaignAssignment.objects.get(worker=people["an"]).site_id)
    assert first_in_due_list(people["an"]) == {}  # the window has not opened yet
    frozen.move_to(dt.datetime(2026, 4, 2, 9, 0, tzinfo=TZ))
    assert first_in_due_list(people["an"]) == {assigned_to_an: (CAMPAIGN_SITE, None, None)}
    inspect(CampaignAssignment.objects.get(worker=people["an"]).site, "2026-04-02T08:00", signage="none")
    assert first_in_due_list(people["an"]) == {}


def test_the_board_and_the_tablet_agree_on_a_check_late_on_the_day_before(province, demo_tree, inspect, frozen):
    """ "Checked since the campaign opened" is one rule (hazards.rules.checked_since): a
    check on the registry's day the campaign starts or after. A check at 23:30 Vietnam time
    the day before (16:30 in UTC, as stored) is not one, on the board as on the tablet,
    whatever time zone Django has active (here one where midnight came two hours earlier)."""
    people, _sites = province
    campaign = start(people, demo_tree)
    site = CampaignAssignment.objects.get(worker=people["an"]).site
    frozen.move_to(dt.datetime(2026, 4, 2, 9, 0, tzinfo=TZ))
    inspect(site, dt.datetime(2026, 3, 31, 23, 30, tzinfo=TZ), signage="none")
    with timezone.override("Asia/Tokyo"):
        rows, _totals = campaign_board(campaign, people["manager"])
        assert {r.area.code: r.counts["checked"] for r in rows}["99101"] == 0
        assert first_in_due_list(people["an"]) == {str(site.pk): (CAMPAIGN_SITE, None, None)}
    inspect(site, dt.datetime(2026, 4, 1, 0, 30, tzinfo=TZ), signage="none")
    rows, _totals = campaign_board(campaign, people["manager"])
    assert {r.area.code: r.counts["checked"] for r in rows}["99101"] == 1
    assert first_in_due_list(people["an"]) == {}


def test_order_awaiting_verification_comes_first(province, demo_tree):
    people, sites = province
    order = orders.order_open(
        actor=people["manager"], site=sites["unprotected"], party_kind="cooperative", party_name="HTX Tân Tiến",
        requirements=["barrier"], deadline=dt.date(2026, 4, 30), follow_up=people["an"],
    )  # fmt: skip
    assert first_in_due_list(people["binh"]) == {}
    orders.order_mark_done(actor=people["an"], order=order)
    unprotected = str(sites["unprotected"].pk)
    assert first_in_due_list(people["binh"]) == {unprotected: (AWAITING_VERIFICATION, "done", "2026-04-30")}


def test_assignments_move_to_a_worker_of_the_site_only(province, demo_tree):
    people, _sites = province
    campaign = start(people, demo_tree)
    nobody = CampaignAssignment.objects.filter(campaign=campaign, worker__isnull=True)
    with pytest.raises(ValidationError, match="does not work where"):
        campaigns.assignment_change(actor=people["manager"], assignments=nobody, worker=people["an"])
    commune = CampaignAssignment.objects.filter(campaign=campaign, area=demo_tree["99101"])
    assert campaigns.assignment_change(actor=people["manager"], assignments=commune, worker=people["binh"]) == 2
    assert set(commune.values_list("worker", flat=True)) == {people["binh"].pk}


def test_bad_windows_are_refused(province, demo_tree):
    people, _sites = province
    with pytest.raises(ValidationError, match="cannot end before"):
        start(people, demo_tree, ends_on=dt.date(2026, 3, 31))
    with pytest.raises(ValidationError, match="already over"):
        start(people, demo_tree, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 2, 1))


def test_a_national_campaign_takes_every_area_and_only_national_users_start_one(province, demo_tree, superuser):
    people, _sites = province
    with pytest.raises(OutOfScope):
        start(people, demo_tree, area=None)
    campaign = start({"manager": superuser}, demo_tree, area=None, name="Toàn quốc")
    assert CampaignAssignment.objects.filter(campaign=campaign).count() == 4
    assert campaign.area_label == "Whole country"
    assert list(campaigns_for(people["commune_manager"])) == [campaign]
    rows, totals = campaign_board(campaign, people["commune_manager"])
    assert [r.area.code for r in rows] == ["99102"] and totals["sites"] == 1


def test_the_board_writes_its_counts_in_the_readers_format(province, demo_tree):
    """A national campaign counts hundreds of thousands of sites: 1.234.567 in Vietnamese."""
    people, _sites = province
    campaign = start(people, demo_tree)
    rows = [BoardRow(demo_tree["99101"], dict.fromkeys(BOARD_COLUMNS, 12345))]
    totals = dict.fromkeys(BOARD_COLUMNS, 1234567)
    for language, big, small in (("vi", "1.234.567", "12.345"), ("en", "1,234,567", "12,345")):
        with translation.override(language):
            page = render_to_string("campaigns/board.html", {"campaign": campaign, "rows": rows, "totals": totals})
            pdf = PdfReader(io.BytesIO(campaign_files.as_pdf(campaign, rows, totals))).pages[0].extract_text()
        assert big in page and small in page and big in pdf and small in pdf, language


def test_the_board_shows_the_share_checked_on_the_page_and_in_both_files(province, demo_tree):
    """Progress is the share of the campaign's sites checked: one figure, with one decimal in
    the reader's format, on the page, in the PDF and in the XLSX (as a number)."""
    people, _sites = province
    campaign = start(people, demo_tree)
    counts = {**dict.fromkeys(BOARD_COLUMNS, 0), "sites": 3, "checked": 1}
    rows = [BoardRow(demo_tree["99101"], counts)]
    totals = {**dict.fromkeys(BOARD_COLUMNS, 0), "sites": 6, "checked": 1}
    with translation.override("vi"):
        page = render_to_string("campaigns/board.html", {"campaign": campaign, "rows": rows, "totals": totals})
        pdf = PdfReader(io.BytesIO(campaign_files.as_pdf(campaign, rows, totals))).pages[0].extract_text()
        sheet = load_workbook(io.BytesIO(campaign_files.as_xlsx(campaign, rows, totals))).active
    assert "33,3" in page and "16,7" in page
    assert "33,3" in pdf and "16,7" in pdf and "Đã kiểm tra (%)" in pdf
    assert [c.value for c in sheet[2]][3:5] == ["Đã kiểm tra", "Đã kiểm tra (%)"]
    assert [c.value for c in sheet[3]][3:5] == [1, 33.3] and [c.value for c in sheet[4]][3:5] == [1, 16.7]


def test_the_board_rounds_the_share_checked_half_up_as_the_reports_do(province, demo_tree):
    """49 of 400 is 12.25 %: 12,3 as every report writes a share (common.numbers.share),
    not 12,2 (Python's round() to even), on the page, in the PDF and in the XLSX."""
    people, _sites = province
    campaign = start(people, demo_tree)
    counts = {**dict.fromkeys(BOARD_COLUMNS, 0), "sites": 400, "checked": 49}
    rows = [BoardRow(demo_tree["99101"], counts)]
    with translation.override("vi"):
        page = render_to_string("campaigns/board.html", {"campaign": campaign, "rows": rows, "totals": counts})
        pdf = PdfReader(io.BytesIO(campaign_files.as_pdf(campaign, rows, counts))).pages[0].extract_text()
        sheet = load_workbook(io.BytesIO(campaign_files.as_xlsx(campaign, rows, counts))).active
    assert "<td>12,3</td>" in page and "12,2" not in page
    assert "12,3" in pdf and "12,2" not in pdf
    assert [c.value for c in sheet[3]][4] == 12.3


def test_a_started_campaign_is_counted_for_the_planner_at_once(province, demo_tree):
    """The board is opened right after the start: PostgreSQL must know the assignments are
    there (a national campaign's board was slow until autovacuum analysed them,
    bench/NOTES.md), so the start analyses the table itself."""
    people, _sites = province
    start(people, demo_tree)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'hazards_campaignassignment'")
        assert cursor.fetchone()[0] == CampaignAssignment.objects.count() == 4


def test_a_campaign_name_with_a_control_character_is_refused(province, demo_tree):
    """It heads the campaign board's XLSX (pentest F13)."""
    people, _sites = province
    with pytest.raises(ValidationError, match="Name contains the control character U\\+001B"):
        start(people, demo_tree, name="Hè\x1b[31m")
    assert start(people, demo_tree).name == "Trước hè 2026"


def test_a_manager_renames_and_extends_an_open_campaign_on_its_page(province, demo_tree, client, frozen, make_site):
    """Once open, a campaign keeps its first day and its sites with the workers a manager
    gave them; its name and last day change, audited."""
    from accounts.models import AuditEntry

    people, sites = province
    campaign = start(people, demo_tree)
    moved = CampaignAssignment.objects.filter(campaign=campaign, site=sites["never_checked"])
    campaigns.assignment_change(actor=people["manager"], assignments=moved, worker=people["district_worker"])
    before = set(CampaignAssignment.objects.filter(campaign=campaign).values_list("site_id", "worker_id"))
    frozen.move_to(dt.datetime(2026, 5, 20, 9, 0, tzinfo=TZ))
    make_site(demo_tree["99101"])  # a site registered since: an open campaign does not take it
    client.force_login(people["manager"])
    board = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/campaigns/{campaign.pk}/edit/"' in board
    page = client.get(f"/campaigns/{campaign.pk}/edit/")
    assert page.status_code == 200 and 'value="Trước hè 2026"' in page.content.decode()
    # Its first day cannot move any more: refused with the reason, nothing stored.
    refused = client.post(
        f"/campaigns/{campaign.pk}/edit/", {"name": "Hè 2026", "starts_on": "2026-04-15", "ends_on": "2026-06-30"}
    )
    assert refused.status_code == 400 and "its first day stays" in refused.content.decode()
    campaign.refresh_from_db()
    assert (campaign.name, campaign.ends_on) == ("Trước hè 2026", dt.date(2026, 5, 31))
    saved = client.post(
        f"/campaigns/{campaign.pk}/edit/", {"name": "Hè 2026", "starts_on": "2026-04-01", "ends_on": "2026-06-30"}
    )
    assert saved.status_code == 302 and saved["Location"] == f"/campaigns/{campaign.pk}/"
    campaign.refresh_from_db()
    assert (campaign.name, campaign.starts_on, campaign.ends_on) == (
        "Hè 2026",
        dt.date(2026, 4, 1),
        dt.date(2026, 6, 30),
    )
    assert set(CampaignAssignment.objects.filter(campaign=campaign).values_list("site_id", "worker_id")) == before
    entry = AuditEntry.objects.filter(table="hazards_campaign", action="update").latest("at")
    assert entry.actor == people["manager"]
    assert entry.changes["name"] == ["Trước hè 2026", "Hè 2026"] and entry.changes["ends_on"][1] == "2026-06-30"
    # Extended, the window is still open on 15 June: the worker's unchecked sites stay first.
    frozen.move_to(dt.datetime(2026, 6, 15, 9, 0, tzinfo=TZ))
    assert campaigns_for(people["an"]).get().ends_on == dt.date(2026, 6, 30)


def test_moving_a_window_that_has_not_opened_runs_the_rule_again_for_new_sites(province, demo_tree, make_site):
    people, sites = province
    campaign = start(people, demo_tree)
    kept = CampaignAssignment.objects.filter(campaign=campaign, site=sites["never_checked"])
    campaigns.assignment_change(actor=people["manager"], assignments=kept, worker=people["district_worker"])
    later = make_site(demo_tree["99101"])  # registered after the campaign was started
    # A rename alone chooses nothing again.
    assert campaigns.campaign_update(actor=people["manager"], campaign=campaign, name="Trước hè") == 0
    assert not CampaignAssignment.objects.filter(campaign=campaign, site=later).exists()
    joined = campaigns.campaign_update(
        actor=people["manager"], campaign=campaign, starts_on=dt.date(2026, 4, 15), ends_on=dt.date(2026, 6, 15)
    )
    assert joined == 1
    added = CampaignAssignment.objects.get(campaign=campaign, site=later)
    assert added.worker in (people["an"], people["binh"]) and added.area_id == demo_tree["99101"].pk
    # The sites it held keep the workers a manager gave them.
    assert (
        CampaignAssignment.objects.get(campaign=campaign, site=sites["never_checked"]).worker
        == people["district_worker"]
    )
    assert CampaignAssignment.objects.filter(campaign=campaign).count() == 5


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Give the campaign a name"),
        ({"name": "x" * 201}, "At most 200 characters"),
        ({"name": "Hè\x07"}, "name"),
        ({"ends_on": "2026-03-31"}, "cannot end before it starts"),
        ({"starts_on": "2026-03-01", "ends_on": "2026-03-10"}, "already over"),
        ({"ends_on": "31/05/2026"}, "ends_on"),
    ],
)
def test_the_api_renames_and_moves_a_campaign_and_refuses_bad_input_with_a_reason(
    province, demo_tree, client, fields, message
):
    people, _sites = province
    campaign = start(people, demo_tree)
    client.force_login(people["manager"])
    url = f"/api/v1/campaigns/{campaign.pk}/"
    refused = client.patch(url, fields, content_type="application/json")
    assert refused.status_code == 400 and message in refused.content.decode(), refused.content
    campaign.refresh_from_db()
    assert (campaign.name, campaign.starts_on, campaign.ends_on) == (
        "Trước hè 2026",
        dt.date(2026, 4, 1),
        dt.date(2026, 5, 31),
    )
    done = client.patch(url, {"name": "Hè 2026", "ends_on": "2026-06-30"}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert (done.json()["name"], done.json()["starts_on"], done.json()["ends_on"]) == (
        "Hè 2026",
        "2026-04-01",
        "2026-06-30",
    )


def test_only_managers_of_the_campaign_area_edit_it(province, demo_tree, client):
    """A commune officer sees the provincial campaign (its commune's share) but does not
    manage its area: no link, the page and the API answer 404, nothing changes."""
    people, _sites = province
    campaign = start(people, demo_tree)
    client.force_login(people["commune_manager"])
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 200
    assert "/edit/" not in client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert client.get(f"/campaigns/{campaign.pk}/edit/").status_code == 404
    assert client.post(f"/campaigns/{campaign.pk}/edit/", {"name": "X", "starts_on": "2026-04-01",
                                                          "ends_on": "2026-05-31"}).status_code == 404  # fmt: skip
    patch = client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "X"}, content_type="application/json")
    assert patch.status_code == 404
    with pytest.raises(OutOfScope):
        campaigns.campaign_update(actor=people["commune_manager"], campaign=campaign, name="X")
    campaign.refresh_from_db()
    assert campaign.name == "Trước hè 2026"


def test_the_edit_page_in_vietnamese(province, demo_tree, client):
    people, _sites = province
    campaign = start(people, demo_tree)
    client.force_login(people["manager"])
    client.post("/i18n/setlang/", {"language": "vi"})
    page = client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert "Đổi tên hoặc dời thời gian" in page and "chưa bắt đầu" in page


def test_a_deleted_site_leaves_the_board_and_its_numbers_agree_with_their_lists(province, demo_tree, frozen, client):
    """A site a manager deleted leaves every count and list: the board counted it among
    the commune's sites, listed it with its worker, and counted its order among the orders
    opened while the list that number links to (the order list) had left it out."""
    people, sites = province
    campaign = start(people, demo_tree)
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    for key in ("never_checked", "unprotected"):
        orders.order_open(
            actor=people["manager"], site=sites[key], party_kind="household", party_name="Hộ bà Tư",
            requirements=["barrier"], deadline=dt.date(2026, 4, 30), follow_up=people["an"],
        )  # fmt: skip
    services.site_delete(actor=people["manager"], site=sites["never_checked"])
    rows, totals = campaign_board(campaign, people["manager"])
    commune = {r.area.code: r.counts for r in rows}["99101"]
    assert commune["sites"] == 1 and commune["orders_opened"] == 1 and totals["sites"] == 3
    client.force_login(people["manager"])
    listed = client.get("/api/v1/orders/", {"campaign": campaign.pk, "area": "99101"}).json()["count"]
    assert listed == commune["orders_opened"]
    page = client.get(f"/campaigns/{campaign.pk}/", {"area": "99101"})
    assert [a.site for a in page.context["assignments"]] == [sites["unprotected"]]


def test_the_board_offers_the_sites_to_the_people_the_campaign_accepts(province, demo_tree, superuser, make_user):
    """The board's choice of whom to give a commune's sites is exactly whom
    assignment_change accepts, by the one scope rule (accounts/scope.py): a manager or a
    superuser who may survey there too; nobody deactivated or of another commune."""
    make_user("nghi", demo_tree["99101"], Role.FIELD_WORKER, is_active=False)
    commune = demo_tree["99101"]
    offered = set(AssignForm(area=commune).fields["worker"].queryset)
    accepted = {person for person in User.objects.all() if scope_for(person).allows(SURVEY, commune)}
    assert offered == accepted
    people, _sites = province
    assert {superuser, people["manager"], people["an"], people["district_worker"]} <= offered

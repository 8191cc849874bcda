"""Orders and campaigns as managers and API clients see them: pages, REST API, files,
the map panel, the map filter and the tablet's due list data."""

import datetime as dt
import io
import json

import lxml.html
import pytest
import time_machine
from django.contrib.gis.geos import Point
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import Role
from areas.loader import field_map, load_boundaries
from areas.models import Area
from hazards import lifecycle, orders
from hazards.models import Campaign, RemediationOrder
from tests.hazards.site_list import fetch_rows

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(dt.datetime(2026, 4, 6, 9, 0, tzinfo=TZ), tick=False) as traveller:
        yield traveller


@pytest.fixture
def setting(demo_tree, make_user, make_site, client):
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER)
    outsider = make_user("khac", demo_tree["992"], Role.AREA_MANAGER, is_staff=True)
    site = make_site(demo_tree["99101"], actor=manager, name="Ao nhà ông Ba")
    return {"manager": manager, "worker": worker, "outsider": outsider, "site": site}


def login(client, user):
    client.force_login(user)
    return client


def form_data(worker, **extra):
    data = {
        "party_kind": "household",
        "party_name": "Hộ ông Ba",
        "party_phone": "0912345678",
        "party_address": "Thôn 3",
        "requirements": ["sign", "barrier"],
        "deadline": "2026-04-30",
        "follow_up": worker.pk,
    }
    data.update(extra)
    return data


def test_manager_opens_an_order_from_the_site_panel(client, setting):
    login(client, setting["manager"])
    panel = client.get(reverse("map-site-panel", args=[setting["site"].pk]))
    new_url = f"{reverse('order-new')}?site={setting['site'].pk}"
    assert new_url in panel.content.decode()
    response = client.post(new_url, form_data(setting["worker"]))
    order = RemediationOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("order-detail", args=[order.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Hộ ông Ba" in detail and "30/04/2026" in detail
    # With an order not yet verified the panel offers no second one.
    assert new_url not in client.get(reverse("map-site-panel", args=[setting["site"].pk])).content.decode()


def test_order_form_errors_are_shown_and_nothing_stored(client, setting):
    login(client, setting["manager"])
    url = f"{reverse('order-new')}?site={setting['site'].pk}"
    response = client.post(url, form_data(setting["worker"], deadline="2026-01-01", requirements=["other"]))
    assert response.status_code == 400
    text = response.content.decode()
    assert "cannot be in the past" in text or "Say what else" in text
    assert not RemediationOrder.objects.exists()
    # The form again with the reason, as a refusal (4xx), for the change form too.
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    changed = client.post(reverse("order-edit", args=[order.pk]), form_data(setting["worker"], deadline="13/2026"))
    assert changed.status_code == 400 and "Enter a valid date" in changed.content.decode()
    order.refresh_from_db()
    assert order.deadline == dt.date(2026, 4, 20)


def test_outsiders_and_viewers_cannot_open_or_see(client, setting, make_user, demo_tree):
    login(client, setting["outsider"])
    assert client.get(f"{reverse('order-new')}?site={setting['site'].pk}").status_code == 404
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="company", party_name="Công ty Thủy lợi",
        requirements=["barrier"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    assert client.get(reverse("order-detail", args=[order.pk])).status_code == 404
    assert client.post(reverse("order-action", args=[order.pk, "delete"])).status_code == 404
    assert client.get(reverse("order-list")).content.decode().count("Công ty Thủy lợi") == 0
    viewer = make_user("xem", demo_tree["99"], Role.VIEWER)
    login(client, viewer)
    assert "Công ty Thủy lợi" in client.get(reverse("order-list")).content.decode()
    assert client.post(reverse("order-action", args=[order.pk, "acknowledge"])).status_code == 404


def test_field_worker_records_acknowledged_and_done(client, setting):
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    login(client, setting["worker"])
    assert client.post(reverse("order-action", args=[order.pk, "acknowledge"])).status_code == 302
    assert client.post(reverse("order-action", args=[order.pk, "done"])).status_code == 302
    order.refresh_from_db()
    assert order.state == "done"
    again = client.post(reverse("order-action", args=[order.pk, "done"]))
    assert again.status_code == 400 and "only an open or acknowledged order" in again.json()["detail"]
    # A browser is answered with the registry's error page, not a bare text page.
    page = client.post(reverse("order-action", args=[order.pk, "done"]), HTTP_ACCEPT="text/html")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html") and "<h1>" in page.text


def test_order_history_reads_in_words_and_dates_not_columns(client, setting, make_user, demo_tree):
    manager, worker = setting["manager"], setting["worker"]
    worker.first_name = "Nguyễn Thị Lan"
    worker.save()
    order = orders.order_open(
        actor=manager, site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=worker,
    )  # fmt: skip
    orders.order_update(actor=manager, order=order, deadline=dt.date(2026, 5, 2))
    orders.order_acknowledge(actor=worker, order=order)
    login(client, manager)
    history = client.get(reverse("order-detail", args=[order.pk])).context["history"]
    lines = [(line.what, line.changes) for line in history]
    assert lines == [
        ("Acknowledged by the owner", [("State", "Open", "Acknowledged")]),
        ("Order changed", [("Deadline", "20/04/2026", "02/05/2026")]),
        (
            "Order opened",
            [
                ("State", "", "Open"),
                ("Required", "", "Warning sign"),
                ("Responsible party", "", "Hộ ông Ba"),
                ("Deadline", "", "20/04/2026"),
                ("Followed up by", "", "Nguyễn Thị Lan"),
            ],
        ),
    ]
    page = client.get(reverse("order-detail", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Thời hạn: 20/04/2026 → 02/05/2026" in page and "follow_up_id" not in page and "update" not in page


def test_follow_up_page_counts_link_to_their_orders(client, setting, frozen):
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 8), follow_up=setting["worker"],
    )  # fmt: skip
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    login(client, setting["manager"])
    page = client.get(reverse("order-list"), {"area": "991"})
    assert page.context["totals"].counts["overdue"] == 1
    assert [(r.key, r.counts["overdue"]) for r in page.context["by_area"]] == [("99101", 1)]
    assert [(r.key, r.counts["overdue"]) for r in page.context["by_person"]] == [("canbo", 1)]
    assert 'href="?area=99101&order=overdue"' in page.content.decode()
    listed = client.get(reverse("order-list"), {"area": "99101", "order": "overdue"})
    assert [o.party_name for o in listed.context["page"]] == ["Hộ ông Ba"]


def test_an_order_is_shown_overdue_exactly_while_the_overdue_list_holds_it(client, setting, frozen):
    """Overdue is one rule (filters.order_q): the order's page and the deadline in the list of
    orders say it of an order the overdue list counts, so not of the order of a closed site,
    which the same page says has left the follow-up lists; back with the site reopened."""
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 8), follow_up=setting["worker"],
    )  # fmt: skip
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    login(client, setting["manager"])

    def shown() -> tuple[int, bool, bool]:
        listed = client.get(reverse("order-list"), {"order": "overdue"}).context["page"].paginator.count
        page = client.get(reverse("order-detail", args=[order.pk])).content.decode()
        row = client.get(reverse("order-list")).content.decode()
        return listed, '<strong class="due">' in page, '<td class="due">08/04/2026</td>' in row

    assert shown() == (1, True, True)
    lifecycle.site_close(actor=setting["manager"], site=setting["site"], reason="filled_in")
    assert shown() == (0, False, False)
    lifecycle.site_reopen(actor=setting["manager"], site=setting["site"])
    assert shown() == (1, True, True)


ACTION_BUTTONS = {
    "acknowledge": "order-action",
    "done": "order-action",
    "notice": "order-action",
    "edit": "order-edit",
}


def offered(client, order) -> set[str]:
    page = client.get(reverse("order-detail", args=[order.pk])).content.decode()
    return {
        action
        for action, url in ACTION_BUTTONS.items()
        if (reverse(url, args=[order.pk, action]) if url == "order-action" else reverse(url, args=[order.pk])) in page
    }


def accepted(client, order) -> set[str]:
    """The steps the services take from the order's state, each tried and undone."""
    taken = set()
    for action in ("acknowledge", "done"):
        with transaction.atomic():
            if client.post(reverse("order-action", args=[order.pk, action])).status_code == 302:
                taken.add(action)
            transaction.set_rollback(True)
    if client.get(reverse("order-edit", args=[order.pk])).status_code == 200:
        taken.add("edit")
    if not RemediationOrder.objects.get(pk=order.pk).notice_number:
        taken.add("notice")  # issued once: issuing again keeps the number, so it is offered once
    return taken


def test_the_order_page_offers_exactly_the_steps_the_order_can_take(client, setting, inspect, frozen):
    """The page reads the order's life from the model (hazards/orders.py takes the steps):
    in each state it offers what the services accept, and nothing else."""
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    login(client, setting["manager"])
    seen = {}
    for step in (
        lambda: None,
        lambda: orders.order_issue_notice(actor=setting["manager"], order=order),
        lambda: orders.order_acknowledge(actor=setting["manager"], order=order),
        lambda: orders.order_mark_done(actor=setting["manager"], order=order),
        lambda: inspect(setting["site"], timezone.now(), signage="in_place", barrier="none"),
    ):
        step()
        order.refresh_from_db()
        seen[(order.state, bool(order.notice_number))] = offered(client, order)
        assert offered(client, order) == accepted(client, order), order.state
    assert seen == {
        ("open", False): {"acknowledge", "done", "notice", "edit"},
        ("open", True): {"acknowledge", "done", "edit"},
        ("acknowledged", True): {"done", "edit"},
        ("done", True): {"edit"},
        ("verified", True): set(),
    }


def test_follow_up_tables_count_per_area_and_person_and_sum_to_the_total(
    client, setting, frozen, make_user, make_site, demo_tree
):
    """The three tables come from one grouped count: each area's and each person's row and
    the total must still be the lists they link to."""
    other = make_user("canbo+2", demo_tree["991"], Role.FIELD_WORKER, first_name="Lan", last_name="Trần")
    third = make_user("canbo3", demo_tree["992"], Role.FIELD_WORKER)
    district = make_user("quanly.tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    sites = [make_site(demo_tree[code], actor=district) for code in ("99101", "99102", "99102", "99201")]

    def order(site, follow_up, deadline):
        return orders.order_open(
            actor=district, site=site, party_kind="household", party_name="Hộ", requirements=["sign"],
            deadline=deadline, follow_up=follow_up,
        )  # fmt: skip

    order(setting["site"], setting["worker"], dt.date(2026, 4, 8))  # overdue on 10 April
    order(sites[0], other, dt.date(2026, 4, 14))  # due this week
    order(sites[1], other, dt.date(2026, 4, 9))  # overdue
    orders.order_mark_done(actor=district, order=order(sites[2], other, dt.date(2026, 5, 30)))
    order(sites[3], third, dt.date(2026, 4, 7))  # overdue, in the other district
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    login(client, district)

    def tables(**params):
        page = client.get(reverse("order-list"), params)
        assert page.status_code == 200
        rows = lambda name: [(r.key, [n for _k, n in r.cells]) for r in page.context[name]]  # noqa: E731
        return [n for _k, n in page.context["totals"].cells], rows("by_area"), rows("by_person")

    # Columns: overdue, due this week, done awaiting verification, not verified.
    assert tables(area="991") == (
        [2, 1, 1, 4],
        [("99101", [1, 1, 0, 2]), ("99102", [1, 0, 1, 2])],
        [("canbo", [1, 0, 0, 1]), ("canbo+2", [1, 1, 1, 3])],
    )
    # No area: the manager's province, per district, every person.
    assert tables() == (
        [3, 1, 1, 5],
        [("991", [2, 1, 1, 4]), ("992", [1, 0, 0, 1])],
        [("canbo", [1, 0, 0, 1]), ("canbo+2", [1, 1, 1, 3]), ("canbo3", [1, 0, 0, 1])],
    )
    assert (
        client.get(reverse("order-list"), {"follow_up": "canbo+2", "order": "overdue"}).context["page"].paginator.count
        == 1
    )
    page = client.get(reverse("order-list"), {"area": "991"}).content.decode()
    # A user name may hold "+" (a space in a query): the links carry it encoded.
    assert 'href="?area=991&follow_up=canbo%2B2&order=due_week">1</a>' in page
    assert 'href="?area=991&amp;follow_up=canbo%2B2">Trần Lan</a>' in page


def test_orders_api_filters_and_scope(client, setting, make_site, make_user, demo_tree, superuser):
    elsewhere = make_site(demo_tree["99201"])
    orders.order_open(
        actor=superuser, site=elsewhere, party_kind="company", party_name="Công ty B", requirements=["sign"],
        deadline=dt.date(2026, 5, 20), follow_up=make_user("canbo_b", demo_tree["99201"], Role.FIELD_WORKER),
    )  # fmt: skip
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    login(client, setting["manager"])
    body = client.get("/api/v1/orders/").json()
    assert body["count"] == 1 and body["results"][0]["site_code"] == setting["site"].code
    assert client.get("/api/v1/orders/", {"order": "due_week"}).json()["count"] == 0
    assert client.get("/api/v1/orders/", {"order": "open", "kind": "pond", "area": "99101"}).json()["count"] == 1
    assert client.get("/api/v1/orders/", {"follow_up": "canbo_b"}).json()["count"] == 0
    bad = client.get("/api/v1/orders/", {"order": "lost"})
    assert bad.status_code == 400 and "Choose one of" in bad.content.decode()
    login(client, superuser)
    assert client.get("/api/v1/orders/", {"follow_up": "canbo_b"}).json()["count"] == 1


def test_order_lists_run_by_deadline_in_pages(client, setting, make_site, demo_tree):
    """The page and the API page through ids and then read the rows: same order, whole rows."""
    made = {}
    for day, name in ((25, "Ao C"), (10, "Ao A"), (18, "Ao B")):
        site = make_site(demo_tree["99101"], actor=setting["manager"], name=name)
        made[name] = orders.order_open(
            actor=setting["manager"], site=site, party_kind="household", party_name=f"Hộ {name}",
            requirements=["sign"], deadline=dt.date(2026, 4, day), follow_up=setting["worker"],
        )  # fmt: skip
    login(client, setting["manager"])
    first = client.get("/api/v1/orders/", {"limit": 2}).json()
    rest = client.get("/api/v1/orders/", {"limit": 2, "offset": 2}).json()
    assert first["count"] == 3 and [o["site_name"] for o in first["results"] + rest["results"]] == [
        "Ao A", "Ao B", "Ao C"
    ]  # fmt: skip
    assert client.get("/api/v1/orders/", {"limit": 2, "offset": 5}).json() | {"previous": None} == {
        "count": 3, "next": None, "previous": None, "results": []
    }  # fmt: skip
    page = client.get(reverse("order-list")).context["page"]
    assert [o.party_name for o in page] == ["Hộ Ao A", "Hộ Ao B", "Hộ Ao C"] and page.paginator.count == 3
    assert page[0].site.area.code == "99101" and page[0].follow_up == setting["worker"]
    # The page and its count are read together; a page past the end, or no page number,
    # shows the last or the first page, as before.
    for number in ("2", "99999999999999999999", "abc", "0", "-1"):
        page = client.get(reverse("order-list"), {"page": number}).context["page"]
        assert (page.number, page.paginator.count, len(page)) == (1, 3, 3), number


def test_a_user_name_holding_a_nul_is_refused_with_a_reason(client, setting):
    """PostgreSQL refuses NUL in text (it was a 500): config.errors.RefuseNulMiddleware
    answers 400 on every route the order lists have."""
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    login(client, setting["manager"])
    for url in (reverse("order-list"), "/api/v1/orders/", "/ogc/collections/orders/items"):
        refused = client.get(url, {"follow_up": "canbo\x00"})
        assert refused.status_code == 400 and "NUL" in refused.content.decode(), url
    assert client.get("/api/v1/orders/", {"follow_up": "canbo"}).json()["count"] == 1


def test_map_filters_sites_by_order(client, setting, make_site, demo_tree):
    make_site(demo_tree["99101"], actor=setting["manager"])
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    login(client, setting["manager"])
    bbox = "105,20,107,23"
    shown = client.get(reverse("map-sites"), {"bbox": bbox, "order": "open"}).json()
    assert [s["code"] for s in shown["sites"]] == [setting["site"].code]
    assert client.get(reverse("map-sites"), {"bbox": bbox}).json()["total"] == 2
    assert client.get("/api/v1/sites/", {"order": "verified"}).json()["features"] == []


def test_campaign_page_board_files_and_api(client, setting, demo_tree, make_user):
    manager = setting["manager"]
    login(client, manager)
    response = client.post(
        reverse("campaign-list"),
        {"name": "Trước hè 2026", "area": "991", "starts_on": "2026-04-01", "ends_on": "2026-05-31"},
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("campaign-board", args=[campaign.pk])
    board = client.get(response["Location"])
    assert board.context["totals"]["sites"] == 1 and board.context["totals"]["unassigned"] == 0
    # The commune's sites go to another worker of the commune.
    second = make_user("canbo2", demo_tree["99101"], Role.FIELD_WORKER)
    moved = client.post(response["Location"], {"area": demo_tree["99101"].pk, "worker": second.pk})
    assert moved.status_code == 302
    assert client.get(moved["Location"]).context["assignments"][0].worker == second
    sheet = load_workbook(io.BytesIO(client.get(reverse("campaign-file", args=[campaign.pk, "xlsx"])).content)).active
    assert [c.value for c in sheet[3]][:3] == ["99101", "Xã Suối Bạc", 1]
    pdf = PdfReader(io.BytesIO(client.get(reverse("campaign-file", args=[campaign.pk, "pdf"])).content))
    text = pdf.pages[0].extract_text()
    assert "Trước hè 2026" in text and "Xã Suối Bạc" in text
    # The board's order numbers link to the campaign's orders.
    assert f'href="/orders/?campaign={campaign.pk}"' in board.content.decode()
    assert client.get("/api/v1/orders/", {"campaign": campaign.pk}).json()["count"] == 0
    assert client.get("/api/v1/orders/", {"campaign": "x"}).status_code == 400
    api = client.get(f"/api/v1/campaigns/{campaign.pk}/board/").json()
    assert api["total"]["sites"] == 1 and api["rows"][0]["area_code"] == "99101"
    login(client, setting["outsider"])
    assert client.get(f"/api/v1/campaigns/{campaign.pk}/board/").status_code == 404


def test_campaign_forms_refuse_bad_input_with_a_reason(client, setting, demo_tree):
    login(client, setting["manager"])
    window = {"name": "Trước hè", "area": "991", "starts_on": "2026-05-31", "ends_on": "2026-04-01"}
    refused = client.post(reverse("campaign-list"), window)
    assert refused.status_code == 400 and "cannot end before it starts" in refused.content.decode()
    good = {**window, "starts_on": "2026-04-01", "ends_on": "2026-05-31"}
    elsewhere = client.post(reverse("campaign-list"), {**good, "area": "992"})
    assert elsewhere.status_code == 400 and "No area with this code" in elsewhere.content.decode()
    assert not Campaign.objects.exists()
    client.post(reverse("campaign-list"), good)
    board = reverse("campaign-board", args=[Campaign.objects.get().pk])
    worker = setting["worker"]
    # The assignment form's area is a number: anything else is a request to correct, not a 500.
    for area in ["abc", "", "1e3", "-1"]:
        response = client.post(board, {"area": area, "worker": worker.pk})
        assert response.status_code == 400 and "area" in response.content.decode(), area
    # An area out of the manager's reach is not found; a worker who is not the area's is refused.
    assert client.post(board, {"area": demo_tree["99201"].pk, "worker": worker.pk}).status_code == 404
    assert client.post(board, {"area": 2**40, "worker": worker.pk}).status_code == 404
    wrong = client.post(board, {"area": demo_tree["99101"].pk, "worker": "abc"})
    assert wrong.status_code == 400


def test_tablet_gets_order_awaiting_verification_first(client, setting):
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    orders.order_mark_done(actor=setting["worker"], order=order)
    login(client, setting["worker"])
    rows = {row["code"]: row for row in fetch_rows(client)}
    props = rows[setting["site"].code]
    assert props["first"] == 2 and props["due"] is True
    assert (props["order_state"], props["order_deadline"]) == ("done", "2026-04-20")


def test_orders_as_an_ogc_collection(client, setting, make_site, demo_tree, superuser, make_user):
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign", "barrier"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    orders.order_open(
        actor=superuser, site=make_site(demo_tree["99201"]), party_kind="company", party_name="Công ty B",
        requirements=["cover"], deadline=dt.date(2026, 4, 20),
        follow_up=make_user("canbo_b", demo_tree["99201"], Role.FIELD_WORKER),
    )  # fmt: skip
    login(client, setting["manager"])
    collections = client.get(reverse("ogc-collections")).json()["collections"]
    assert "orders" in [c["id"] for c in collections]
    body = client.get(reverse("ogc-items", args=["orders"]), {"bbox": "105,20,107,23"}).json()
    assert body["numberMatched"] == 1
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["site_code"] == setting["site"].code
    assert feature["properties"]["requirements"] == ["sign", "barrier"]
    one = client.get(reverse("ogc-item", args=["orders", feature["id"]]))
    assert one.status_code == 200 and one.json()["properties"]["party_name"] == "Hộ ông Ba"
    other = client.get(reverse("ogc-items", args=["orders"]), {"limit": 10}).json()
    assert [f["properties"]["party_name"] for f in other["features"]] == ["Hộ ông Ba"]
    assert client.get(reverse("ogc-items", args=["orders"]), {"order": "done"}).json()["features"] == []
    opened = client.get(reverse("ogc-items", args=["orders"]), {"order": "open", "follow_up": "canbo"}).json()
    assert [f["id"] for f in opened["features"]] == [feature["id"]]
    refused = client.get(reverse("ogc-items", args=["orders"]), {"colour": "red"})
    assert refused.status_code == 400 and "order" in refused.json()["description"]
    # GDAL reads the field types from the schema; the OpenAPI document names the collection.
    schema = client.get(reverse("ogc-schema", args=["orders"])).json()["properties"]["properties"]["properties"]
    assert schema["requirements"]["type"] == "array" and schema["deadline"]["format"] == "date"
    assert "/collections/orders/items" in client.get(reverse("ogc-api")).json()["paths"]
    # QGIS takes its style from the registry: a point mark, order states by their labels.
    qml = client.get(reverse("ogc-qml", args=["orders"])).content.decode()
    assert 'class="SimpleMarker"' in qml and 'name="Done (awaiting verification)" type="QString" value="done"' in qml


def test_site_page_lists_orders_and_offers_to_open_one(client, setting):
    login(client, setting["manager"])
    url = reverse("admin:hazards_site_change", args=[setting["site"].pk])
    new_url = f"{reverse('order-new')}?site={setting['site'].pk}"
    assert new_url in client.get(url).content.decode()
    order = orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    page = client.get(url).content.decode()
    assert reverse("order-detail", args=[order.pk]) in page and new_url not in page


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (dt.datetime(2026, 1, 15, 9, 0, tzinfo=TZ), 2026),  # planning this spring's checks
        (dt.datetime(2026, 5, 31, 9, 0, tzinfo=TZ), 2026),  # its last day: still this year's
        (dt.datetime(2026, 6, 1, 9, 0, tzinfo=TZ), 2027),  # summer has come: next year's
        (dt.datetime(2026, 12, 4, 9, 0, tzinfo=TZ), 2027),
    ],
)
def test_campaign_form_offers_the_coming_pre_summer_window_which_starts_as_offered(
    client, setting, frozen, today, year
):
    """A manager planning in December is offered next spring, not the spring gone by (a
    window over already, which starting refuses)."""
    frozen.move_to(today)
    login(client, setting["manager"])
    form = client.get(reverse("campaign-list")).context["form"]
    assert form.initial["starts_on"] == dt.date(year, 4, 1) and form.initial["ends_on"] == dt.date(year, 5, 31)
    assert str(year) in form.initial["name"]
    offered = {**form.initial, "starts_on": form.initial["starts_on"].isoformat(),
               "ends_on": form.initial["ends_on"].isoformat()}  # fmt: skip
    assert client.post(reverse("campaign-list"), offered).status_code == 302


def test_people_to_choose_are_shown_by_name(client, demo_tree, make_user, make_site):
    """Whom to follow an order up, whom to send a campaign's sites to: a manager picks
    people by the names the lists show ("Nguyễn Thị Lan"), not by their sign-in names."""
    manager = make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER, first_name="Nguyễn Thị Lan")
    make_user("canbo2", demo_tree["99101"], Role.FIELD_WORKER)  # no name given: the sign-in name
    site = make_site(demo_tree["99101"], actor=manager, name="Ao nhà ông Ba")
    login(client, manager)
    form = client.get(reverse("order-new") + f"?site={site.pk}").content.decode()
    assert ">Nguyễn Thị Lan (canbo)</option>" in form and ">canbo2</option>" in form
    campaign = client.post(
        reverse("campaign-list"),
        {"name": "Trước hè 2026", "area": "991", "starts_on": "2026-04-01", "ends_on": "2026-05-31"},
    )
    board = client.get(campaign["Location"] + f"?area={demo_tree['99101'].code}").content.decode()
    assert ">Nguyễn Thị Lan (canbo)</option>" in board and ">canbo2</option>" in board


def box(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def test_a_follow_up_row_of_sites_lying_directly_in_the_area_links_to_those_orders_alone(
    client, make_user, make_site, tmp_path
):
    """Where the communes loaded do not cover their province, a site lies in the province
    itself: its row in the follow-up table by area counts its orders only, and its links
    list those (directly=true), named as the report names such a row. The row was named as
    the whole province and linked to all of the province's orders."""
    features = [
        ({"code": "98", "name": "Tỉnh Thử", "level": "province"}, box(104.0, 21.0, 104.2, 21.2)),
        ({"code": "98001", "name": "Xã Một", "level": "commune", "parent": "98"}, box(104.0, 21.0, 104.1, 21.2)),
    ]
    for n, (props, geometry) in enumerate(features):
        path = tmp_path / f"{n}.geojson"
        feature = {"type": "Feature", "geometry": geometry, "properties": props}
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
        load_boundaries(
            [path],
            fields=field_map(code="code", name="name", level=props["level"], parent=props.get("parent") and "parent"),
        )
    province, commune = Area.objects.get(code="98"), Area.objects.get(code="98001")
    manager = make_user("tinh98", province, Role.AREA_MANAGER, is_staff=True)
    for name, lon in (("Ao trong xã", 104.05), ("Ao ngoài xã", 104.15)):
        site = make_site(commune, actor=manager, name=name, location=Point(lon, 21.1, srid=4326))
        orders.order_open(
            actor=manager, site=site, party_kind="household", party_name="Hộ ông Ba", requirements=["sign"],
            deadline=dt.date(2026, 4, 30), follow_up=manager,
        )  # fmt: skip
    login(client, manager)
    page = client.get(reverse("order-list"))
    rows = {row.label: row for row in page.context["by_area"]}
    assert set(rows) == {"Xã Một", "Directly in Tỉnh Thử"}
    direct = rows["Directly in Tỉnh Thử"]
    assert direct.counts["unverified"] == 1
    html = page.content.decode()
    link = "?area=98&directly=true&order=unverified"
    assert f'href="{link}"' in html
    listed = client.get(reverse("order-list") + link).context["page"].object_list
    assert [o.site.name for o in listed] == ["Ao ngoài xã"]


def test_vietnamese_pages_use_the_registry_words_for_campaigns_workers_and_states(client, setting):
    """A campaign is an "đợt kiểm tra" and a field worker a "cán bộ thực địa" on every page
    (the edit page said "chiến dịch" and "cán bộ hiện trường"); an order the owner says is
    done is "reported done", not "done", until an inspection verifies it."""
    vi = type(client)(HTTP_ACCEPT_LANGUAGE="vi")
    manager = setting["manager"]
    login(vi, manager)
    vi.post(reverse("campaign-list"), {"name": "Trước hè", "area": "991", "starts_on": "2026-04-01",
                                       "ends_on": "2026-05-31"})  # fmt: skip
    edit = vi.get(reverse("campaign-edit", args=[Campaign.objects.get().pk])).content.decode()
    assert "Đợt kiểm tra đã bắt đầu" in edit and "cán bộ thực địa" in edit
    assert "hiến dịch" not in edit and "hiện trường" not in edit
    order = orders.order_open(
        actor=manager, site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 30), follow_up=setting["worker"],
    )  # fmt: skip
    orders.order_mark_done(actor=manager, order=order)
    page = vi.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert "Đã báo hoàn thành (chờ xác minh)" in page


def texts(html: str, xpath: str) -> list[str]:
    """The words of each element `xpath` picks, as a person reads them."""
    return [" ".join(e.text_content().split()) for e in lxml.html.fromstring(html).xpath(xpath)]


def classed(name: str) -> str:
    """An XPath test for elements of the class `name`."""
    return f"contains(concat(' ', @class, ' '), ' {name} ')"


def test_the_order_list_names_each_site_under_site_and_its_area_under_area(client, setting):
    """The "Địa bàn" (area) column held the site's name beside the commune's (walkthrough):
    a planner sorting orders by commune read pond names there."""
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 20), follow_up=setting["worker"],
    )  # fmt: skip
    login(client, setting["manager"])
    page = client.get(reverse("order-list"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert texts(page, f"//table[{classed('orders')}]/thead//th")[:2] == ["Điểm", "Địa bàn"]
    row = texts(page, f"//table[{classed('orders')}]/tbody/tr[1]/td")
    assert row[:2] == [f"{setting['site'].code} · Ao nhà ông Ba", "Xã Suối Bạc"]


def test_every_page_showing_an_order_s_state_says_when_it_is_overdue(client, setting, frozen):
    """The list of orders said "Đang mở" of an order past its deadline (walkthrough); only
    its deadline was red. The state says it wherever an order's state is shown (the list,
    the order, the map's site panel, the site's admin page), by the overdue list's rule
    (filters.order_q): not once the site is closed."""
    orders.order_open(
        actor=setting["manager"], site=setting["site"], party_kind="household", party_name="Hộ ông Ba",
        requirements=["sign"], deadline=dt.date(2026, 4, 8), follow_up=setting["worker"],
    )  # fmt: skip
    site = setting["site"]
    order = site.orders.get()

    def states() -> list[str]:
        login(client, setting["manager"])  # again: a session ends after days without use
        pages = [
            reverse("order-list"),
            reverse("order-detail", args=[order.pk]),
            reverse("map-site-panel", args=[site.pk]),
            reverse("admin:hazards_site_change", args=[site.pk]),
        ]
        shown = [client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode() for url in pages]
        return [text for html in shown for text in texts(html, f"//*[{classed('order-state')}]")]

    assert states() == ["Đang mở"] * 4
    frozen.move_to(dt.datetime(2026, 4, 10, 9, 0, tzinfo=TZ))
    assert states() == ["Đang mở · quá hạn"] * 4
    lifecycle.site_close(actor=setting["manager"], site=site, reason="filled_in")
    assert states() == ["Đang mở"] * 4

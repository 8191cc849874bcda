"""A report's order columns for an area and a period: orders opened, overdue and verified
in it, and the median days to verify; each number is the length of the order list it
links to, and a past period gives the same numbers when run again later."""

import csv
import datetime as dt
import html
import io
import re
import statistics

import pytest
import time_machine
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import Role
from hazards import lifecycle, orders
from hazards.models import RemediationOrder
from hazards.order_selectors import order_numbers, orders_for

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=7))
H1 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=TZ)


@pytest.fixture
def clock():
    with time_machine.travel(at("2025-11-01"), tick=False) as traveller:
        yield traveller


@pytest.fixture
def province(demo_tree, make_user):
    return make_user("tinh", demo_tree["99"], Role.AREA_MANAGER)


@pytest.fixture
def history(clock, demo_tree, make_site, inspect, province):
    """Orders over 2025-12 .. 2026-07 in two districts (991: A, B, E, F; 992: C, D)."""

    def open_on(day, commune, deadline, name):
        clock.move_to(at(day))
        site = make_site(demo_tree[commune], actor=province, name=name)
        return orders.order_open(
            actor=province, site=site, party_kind="household", party_name=name, requirements=["sign", "barrier"],
            deadline=dt.date.fromisoformat(deadline), follow_up=province,
        )  # fmt: skip

    def done_on(order, day):
        clock.move_to(at(day))
        return orders.order_mark_done(actor=province, order=order)

    def verified_on(order, day):
        clock.move_to(at(day, 15))
        inspect(order.site, at(day, 14), actor=province)
        order.refresh_from_db()
        assert order.state == "verified"
        return order

    made = {}
    made["D"] = open_on("2025-12-01", "99201", "2025-12-31", "D: opened before the period")
    made["A"] = open_on("2026-02-01", "99101", "2026-03-01", "A: done and verified in time")
    made["B"] = open_on("2026-03-01", "99101", "2026-04-01", "B: nothing done")
    made["C"] = open_on("2026-05-01", "99201", "2026-06-01", "C: done late")
    made["F"] = open_on("2026-05-02", "99101", "2026-06-02", "F: deleted")
    made["E"] = open_on("2026-06-20", "99101", "2026-07-20", "E: deadline after the period")
    verified_on(made["D"], "2026-01-11")
    done_on(made["A"], "2026-02-20")
    verified_on(made["A"], "2026-02-25")
    done_on(made["C"], "2026-06-05")
    verified_on(made["C"], "2026-06-11")
    orders.order_delete(actor=province, order=made["F"])
    clock.move_to(at("2026-07-10"))
    return {key: RemediationOrder.all_objects.get(pk=o.pk) for key, o in made.items()}


def days(order) -> float:
    return (order.verified_at - order.opened_at).total_seconds() / 86400


def listed(client, province, **params) -> set[str]:
    client.force_login(province)
    response = client.get("/api/v1/orders/", {"from": H1[0], "to": H1[1], "limit": 1000, **params})
    assert response.status_code == 200, response.content
    return {row["party_name"][0] for row in response.json()["results"]}


def test_order_columns_per_area_and_their_lists(history, province, client):
    by_child, total = order_numbers(orders_for(province, within="/99/"), "/99/", *H1, dt.date(2026, 7, 10))
    a, c, d = history["A"], history["C"], history["D"]
    assert {code: {k: v for k, v in row.items() if k != "median_days_to_verify"} for code, row in by_child.items()} == {
        "991": {"opened": 3, "overdue": 1, "verified": 1},
        "992": {"opened": 1, "overdue": 1, "verified": 2},
    }
    assert by_child["991"]["median_days_to_verify"] == pytest.approx(days(a))
    assert by_child["992"]["median_days_to_verify"] == pytest.approx(statistics.median([days(c), days(d)]))
    assert total["median_days_to_verify"] == pytest.approx(statistics.median([days(a), days(c), days(d)]))
    assert (total["opened"], total["overdue"], total["verified"]) == (4, 2, 3)
    # Each number is its list: the order list and the API with the same area and period.
    assert listed(client, province, area="991", in_period="opened") == {"A", "B", "E"}
    assert listed(client, province, area="991", in_period="overdue") == {"B"}
    assert listed(client, province, area="992", in_period="overdue") == {"C"}
    assert listed(client, province, area="992", in_period="verified") == {"C", "D"}
    page = client.get("/orders/", {"area": "992", "in_period": "verified", "from": H1[0], "to": H1[1]})
    text = page.content.decode()
    # The period as the report that links here names it, its dates beside.
    assert "Orders verified · First half of 2026 (01/01/2026 – 30/06/2026)" in text
    assert history["C"].site.code in text and history["D"].site.code in text and history["A"].site.code not in text


def test_a_past_period_gives_the_same_numbers_later(history, province, clock):
    before = order_numbers(orders_for(province, within="/"), "/", *H1, dt.date(2026, 7, 10))
    clock.move_to(at("2026-09-01"))
    orders.order_mark_done(actor=province, order=history["B"])
    orders.order_update(actor=province, order=history["E"], deadline=dt.date(2026, 9, 30))
    assert order_numbers(orders_for(province, within="/"), "/", *H1, dt.date(2026, 9, 1)) == before


def test_a_deadline_counts_as_overdue_only_once_it_has_passed(history, province, clock):
    # The period still running: E's deadline (20 July) is today, then yesterday.
    july = (dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    clock.move_to(at("2026-07-20"))
    assert order_numbers(orders_for(province, within="/"), "/", *july, dt.date(2026, 7, 20))[1]["overdue"] == 0
    clock.move_to(at("2026-07-21"))
    assert order_numbers(orders_for(province, within="/"), "/", *july, dt.date(2026, 7, 21))[1]["overdue"] == 1


def test_the_report_shows_the_order_columns_each_a_link_to_its_list(history, province, client):
    client.force_login(province)
    page = client.get("/reports/", {"area": "99", "kind": "half", "year": 2026, "half": 1}).content.decode()
    table = page[page.index('class="report orders-in-period"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr(?: class=\"total\")?><td class=\"name\">(.*?)</td>(.*?)</tr>", table, re.S)
    cells = {
        re.sub(r"<.*?>|\s+", " ", name).strip(): re.findall(r'<a href="([^"]+)">([^<]*)</a>', body)
        for name, body in rows
    }
    # Huyện 991 and 992 hold the orders; the third district has none; then the total.
    assert [text for _url, text in cells["Total Tỉnh Sông Xanh"][:3]] == ["4", "2", "3"]
    district_992 = next(v for k, v in cells.items() if k.endswith("992"))
    assert [text for _url, text in district_992[:3]] == ["1", "1", "2"]
    median = float(district_992[3][1].replace(",", "."))
    assert median == pytest.approx(statistics.median([days(history["C"]), days(history["D"])]), abs=0.05)
    for links in cells.values():
        for url, text in links[:3]:
            listed = client.get(html.unescape(url).replace("/orders/", "/api/v1/orders/", 1) + "&limit=1000")
            assert listed.status_code == 200 and len(listed.json()["results"]) == int(text), url


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"in_period": "opened", "from": "2026-01-01"}, "from=YYYY-MM-DD"),
        ({"in_period": "opened", "from": "2026-13-01", "to": "2026-06-30"}, "from=YYYY-MM-DD"),
        ({"in_period": "opened", "from": "2026-06-30", "to": "2026-01-01"}, "cannot end before it starts"),
        ({"in_period": "late", "from": "2026-01-01", "to": "2026-06-30"}, "Choose one of"),
    ],
)
def test_a_bad_period_is_refused_with_a_reason(demo_tree, make_user, client, params, text):
    client.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER))
    for url in ("/orders/", "/api/v1/orders/"):
        response = client.get(url, params)
        assert response.status_code == 400 and text in response.content.decode(), url


def test_an_area_code_with_a_nul_character_is_refused_with_a_reason(demo_tree, make_user, client):
    """Found by the API's property test: PostgreSQL refuses a NUL in text (it was a 500);
    config.errors.RefuseNulMiddleware answers 400 before any view."""
    client.force_login(make_user("tinh", demo_tree["99"], Role.AREA_MANAGER))
    for url, params in (
        ("/api/v1/orders/", {"area": "99\x00", "directly": "true"}),
        ("/api/v1/orders/", {"area": "\x00"}),
        ("/api/v1/sites/", {"area": "\x0099"}),
    ):
        response = client.get(url, params)
        assert response.status_code == 400 and "NUL" in response.json()["detail"], (url, params)


def test_the_order_of_a_site_closed_by_its_deadline_is_not_overdue(history, province):
    """B's deadline (1 April) passed with nothing done: overdue, unless the pond was filled
    in by then."""
    lifecycle.site_close(actor=province, site=history["B"].site, reason="filled_in", closed_at=dt.date(2026, 3, 20))
    _by_child, total = order_numbers(orders_for(province, within="/99/"), "/99/", *H1, dt.date(2026, 7, 10))
    assert total["overdue"] == 1  # C only


REPORT = {"area": "99", "kind": "half", "year": 2026, "half": 1}


def page_order_cells(client, language: str = "en") -> dict[str, list[tuple[str, str]]]:
    """The report page's order table: per area code ("*": the total) its four cells, each
    (link, number as shown)."""
    client.post("/i18n/setlang/", {"language": language})
    page = client.get("/reports/", REPORT).content.decode()
    table = page[page.index('class="report orders-in-period"') :]
    table = table[: table.index("</table>")]
    result = {}
    for name, body in re.findall(r"<tr(?: class=\"total\")?><td class=\"name\">(.*?)</td>(.*?)</tr>", table, re.S):
        code = re.search(r"<small>(.*?)</small>", name)
        cells = re.findall(r'<a href="([^"]+)">([^<]*)</a>', body)
        result[code.group(1) if code else "*"] = [(html.unescape(url), text) for url, text in cells]
    return result


def page_orders(client, language: str = "en") -> dict[str, list[str]]:
    """The report page's order table: per area code ("*": the total) its four numbers as shown."""
    return {code: [text for _url, text in cells] for code, cells in page_order_cells(client, language).items()}


def csv_orders(content: bytes, separator: str) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=separator))
    section = rows[rows.index([]) + 1 :]
    assert section[0] == ["Remediation orders in the period"]
    assert section[1][2:] == ["Orders opened", "Orders overdue", "Orders verified", "Median days to verify"]
    return {("*" if row[0] == "99" else row[0]): row[2:] for row in section[2:]}


def test_the_report_files_and_documents_carry_the_page_order_numbers(history, province, client):
    """Each order number of the report's CSV (both separators), XLSX (typed), PDF and DOCX
    is the page's number."""
    client.force_login(province)
    shown = page_orders(client)
    assert shown["*"][:3] == ["4", "2", "3"] and shown["992"][:3] == ["1", "1", "2"]
    assert csv_orders(client.get("/reports/report.csv", REPORT).content, ",") == shown
    # Excel set to Vietnamese: ";" between fields, "," before decimals (as the Vietnamese page writes it).
    semicolon = csv_orders(client.get("/reports/report.csv", {**REPORT, "sep": "semicolon"}).content, ";")
    assert {code: row[:3] for code, row in semicolon.items()} == {code: row[:3] for code, row in shown.items()}
    assert semicolon["992"][3] == shown["992"][3].replace(".", ",") and "," in semicolon["992"][3]
    book = load_workbook(io.BytesIO(client.get("/reports/report.xlsx", REPORT).content))
    sheet = book["Orders"]
    assert [c.value for c in sheet[2]][2:] == [
        "Orders opened",
        "Orders overdue",
        "Orders verified",
        "Median days to verify",
    ]
    typed = {("*" if r[0] == "99" else r[0]): r[2:] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert typed.keys() == shown.keys()
    for code, row in typed.items():
        assert all(isinstance(n, int) for n in row[:3]) and [str(n) for n in row[:3]] == shown[code][:3], code
        assert (row[3] is None and shown[code][3] == "") or f"{row[3]:.1f}" == shown[code][3], code
    pdf = client.get("/reports/report.pdf", REPORT).content
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Table 3. Remediation orders in the period by area" in text
    assert f"Total {' '.join(shown['*'])}" in text
    document = Document(io.BytesIO(client.get("/reports/report.docx", REPORT).content))
    table = next(t for t in document.tables if "Orders opened" in [c.text for c in t.rows[0].cells])
    cells = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert cells[-1][1:] == ["Total", *shown["*"]]
    assert [row[2:] for row in cells[:-1]] == [shown[code] for code in shown if code != "*"]


@pytest.mark.parametrize("site_url", ["https://songxanh.example.vn", "https://songxanh.example.vn/"])
def test_the_xlsx_order_numbers_link_to_the_orders_they_count(history, province, client, settings, site_url):
    """Each order number of the report's XLSX opens, from wherever the workbook is, the
    list the page's number links to, and that list holds that many orders."""
    settings.SITE_URL = site_url
    client.force_login(province)
    links = {code: [url for url, _text in cells] for code, cells in page_order_cells(client).items()}
    sheet = load_workbook(io.BytesIO(client.get("/reports/report.xlsx", REPORT).content))["Orders"]
    linked = {}
    for row in sheet.iter_rows(min_row=3):
        code = "*" if row[0].value == "99" else row[0].value
        linked[code] = [(c.value, c.hyperlink.target if c.hyperlink else None) for c in row[2:]]
    assert linked.keys() == links.keys() and len(linked) == 4  # three districts and the total
    for code, cells in linked.items():
        for (number, target), page_link in zip(cells, links[code], strict=True):
            if number is None:  # no order verified: no median, nothing to open
                assert target is None, code
                continue
            assert target == "https://songxanh.example.vn" + page_link, code
    for cells in linked.values():
        for number, target in cells[:3]:  # the counts (the median links to the verified)
            path = target.removeprefix("https://songxanh.example.vn")
            listed = client.get(path.replace("/orders/", "/api/v1/orders/", 1) + "&limit=1000")
            assert listed.status_code == 200 and len(listed.json()["results"]) == number, target
    assert client.get(linked["992"][0][1].removeprefix("https://songxanh.example.vn")).status_code == 200


def test_the_vietnamese_files_write_the_median_as_the_vietnamese_page_does(history, province, client):
    client.force_login(province)
    shown = page_orders(client, "vi")
    assert "," in shown["992"][3]
    document = Document(io.BytesIO(client.get("/reports/report.docx", REPORT).content))
    table = next(t for t in document.tables if "Yêu cầu đã lập" in [c.text for c in t.rows[0].cells])
    assert [c.text for c in table.rows[-1].cells][2:] == shown["*"]


def submission_orders(page: str) -> dict[str, list[tuple[str, str, str]]]:
    """A submitted report's order table: per area code ("*": the total) its cells as
    (link, number as submitted, number now or "")."""
    table = page[page.index('class="report orders-in-period"') :]
    table = table[: table.index("</table>")]
    result = {}
    for name, body in re.findall(r"<tr(?: class=\"total\")?><td class=\"name\">(.*?)</td>(.*?)</tr>", table, re.S):
        code = re.search(r"<small>(.*?)</small>", name)
        cells = re.findall(r'<td[^>]*><a href="([^"]+)">([^<]*)</a>(?: <span class="now"[^>]*>→ ([^<]*)</span>)?', body)
        result[code.group(1) if code else "*"] = [(html.unescape(u), n, now) for u, n, now in cells]
    return result


def test_a_submitted_report_freezes_its_order_numbers_and_lists_and_shows_what_changed(
    history, province, client, clock, demo_tree
):
    from reports import services
    from reports.periods import Period

    client.force_login(province)
    live = page_orders(client)
    submission = services.report_submit(
        actor=province, area=demo_tree["99"], period=Period(*H1, "half"), symbol="BC-UBND",
        issuing_body="Ủy ban nhân dân tỉnh Sông Xanh", place="Sông Xanh", signer_title="Chủ tịch",
        signer_name="Nguyễn Văn An",
    )  # fmt: skip
    url = f"/reports/submissions/{submission.pk}/"
    frozen = submission_orders(client.get(url).content.decode())
    assert {code: [n for _u, n, _now in cells] for code, cells in frozen.items()} == live
    assert all(now == "" for cells in frozen.values() for _u, _n, now in cells)
    # Each number links to the orders it counted, as submitted.
    for cells in frozen.values():
        for link, number, _now in cells[:3]:
            page = client.get(link)
            listed = page.content.decode().split('class="report orders"')[1].split("</table>")[0]
            assert page.status_code == 200 and listed.count('href="/orders/') == int(number), link
    verified_992 = client.get(frozen["992"][2][0]).content.decode()
    assert history["C"].site.code in verified_992 and history["D"].site.code in verified_992
    # Later: B's order deleted (opened in the period in 991, and overdue): the frozen cells keep
    # 3 and 1 and their lists still name B; recomputed now they read 2 and 0, marked, and so
    # do the total's.
    clock.move_to(at("2026-08-01"))
    orders.order_delete(actor=province, order=history["B"])
    client.force_login(province)
    page = client.get(url).content.decode()
    after = submission_orders(page)
    assert after["991"][0][1:] == ("3", "2") and after["*"][0][1:] == ("4", "3")
    assert after["991"][1][1:] == ("1", "0") and after["*"][1][1:] == ("2", "1")
    assert after["992"][0][1:] == ("1", "") and after["991"][2][1:] == ("1", "")
    assert "Changed since submission: 4 numbers" in page
    opened_991 = client.get(after["991"][0][0]).content.decode()
    assert history["B"].site.code in opened_991 and "deleted since" in opened_991
    # The submitted document carries the frozen numbers.
    pdf = client.get(f"{url}document.pdf").content
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert f"Total {' '.join(live['*'])}" in text
    docx = Document(io.BytesIO(client.get(f"{url}document.docx").content))
    table = next(t for t in docx.tables if "Orders opened" in [c.text for c in t.rows[0].cells])
    assert [c.text for c in table.rows[-1].cells][2:] == live["*"]
    # A list the submission did not keep is refused with a reason, not a 500.
    assert client.get(f"{url}orders/", {"event": "late"}).status_code == 400


def test_only_people_who_see_the_submission_see_its_order_lists(history, province, client, demo_tree, make_user):
    from reports import services
    from reports.periods import Period

    submission = services.report_submit(
        actor=province, area=demo_tree["99"], period=Period(*H1, "half"), symbol="BC-UBND",
        issuing_body="UBND tỉnh Sông Xanh", place="Sông Xanh", signer_title="Chủ tịch", signer_name="An",
    )  # fmt: skip
    client.force_login(make_user("huyen", demo_tree["991"], Role.AREA_MANAGER))
    assert client.get(f"/reports/submissions/{submission.pk}/orders/", {"event": "opened"}).status_code == 404

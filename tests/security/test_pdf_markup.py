"""Text a person typed is shown as typed in every PDF the registry writes, never read as
ReportLab markup: an `<img src>` naming a file on the server embedded another district's
photo in a campaign board, an `<a href="javascript:…">` became a link (pentest F3)."""

import datetime as dt
import subprocess

import pytest
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from accounts.models import Role
from hazards import campaigns
from reports.administrative import AdministrativeDocument, Paragraph, Signature, pdf

pytestmark = pytest.mark.django_db

LINK = '<a href="javascript:alert(1)">x</a>'
AREA = "<font size=30>Xã</font> A & B < C"


@pytest.fixture
def picture(tmp_path):
    """An image the app user can read: what `<img src>` would pull into the PDF."""
    path = tmp_path / "p.png"
    Image.new("RGB", (8, 8), "red").save(path)
    return f'<img src="{path}" width="40" height="30"/>'


def text(data: bytes, tmp_path) -> str:
    (tmp_path / "out.pdf").write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(tmp_path / "out.pdf"), "-"], capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def assert_no_image_or_link(data: bytes, tmp_path):
    (tmp_path / "check.pdf").write_bytes(data)
    for page in PdfReader(tmp_path / "check.pdf").pages:
        objects = page.get("/Resources", {}).get("/XObject", {})
        assert not [o for o in objects.values() if o.get_object().get("/Subtype") == "/Image"], "an image was embedded"
        assert not page.get("/Annots"), "a link was made"


def test_campaign_board_pdf_shows_names_as_typed(client, demo_tree, make_user, make_site, picture, tmp_path):
    commune = demo_tree["99101"]
    commune.name = AREA
    commune.save(update_fields=["name"])
    make_site(commune)
    manager = make_user("dung", commune, Role.AREA_MANAGER)
    name = f"Hè {picture} {LINK}"
    campaign = campaigns.campaign_start(
        actor=manager, name=name, area=commune, starts_on=dt.date(2026, 12, 1), ends_on=dt.date(2026, 12, 31)
    )
    client.force_login(manager)
    response = client.get(reverse("campaign-file", args=[campaign.pk, "pdf"]))
    assert response.status_code == 200, response.content[:300]
    shown = text(response.content, tmp_path)
    for typed in (picture, LINK, AREA):
        assert typed in shown, typed
    assert_no_image_or_link(response.content, tmp_path)


def test_administrative_pdf_shows_typed_text_as_typed(picture, tmp_path):
    """Order notices, reports and the national report: narrative, names and notes."""
    typed = f"Ao {picture} {LINK} {AREA}"
    document = AdministrativeDocument(
        issuing_body=AREA, kind="Báo cáo", subject=typed, place="Sông Xanh", day=dt.date(2026, 12, 1),
        symbol="BC-UBND", signature=Signature(title="Chủ tịch", name=LINK),
        body=[Paragraph(typed)], recipients=[typed],
    )  # fmt: skip
    data = pdf.render(document)
    shown = text(data, tmp_path)
    for part in (picture, LINK, AREA):
        assert part in shown, part
    assert_no_image_or_link(data, tmp_path)

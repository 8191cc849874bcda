"""Names a person types are read in lists, on documents and in the audit trail: none may
hold an invisible character that reorders it or makes two names that look the same differ
(common/text.py, INVISIBLE_IN_NAMES; pentest I8)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.admin import DeviceTokenForm
from accounts.models import Role
from hazards import campaigns, orders, services
from tests.conftest import inside
from tests.hazards.test_import_page import zipped_shapefile

pytestmark = pytest.mark.django_db

# Direction controls (embeddings, overrides, isolates) and zero-width characters.
INVISIBLE = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
INVISIBLE += ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


@pytest.mark.parametrize("character", INVISIBLE)
def test_an_invisible_character_is_refused_in_every_name_a_person_types(
    client, demo_tree, make_user, make_site, settings, tmp_path, character
):
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    manager = make_user("quan.ly", demo_tree["991"], Role.AREA_MANAGER)
    name = f"Ao{character} ông Ba"
    said = f"U\\+{ord(character):04X}, an invisible character"
    with pytest.raises(ValidationError, match=said):  # a site's
        services.site_register(actor=manager, kind="pond", name=name, location=inside(demo_tree["99101"]))
    site = make_site(demo_tree["99101"], actor=manager)
    with pytest.raises(ValidationError, match=said):  # an order's party
        orders.order_open(
            actor=manager, site=site, party_kind="household", party_name=name, requirements=["sign"],
            deadline=dt.date.today() + dt.timedelta(days=30), follow_up=manager,
        )  # fmt: skip
    today = dt.date.today()
    with pytest.raises(ValidationError, match=said):  # a campaign's
        campaigns.campaign_start(actor=manager, name=name, area=demo_tree["991"], starts_on=today, ends_on=today)
    device = DeviceTokenForm(data={"user": manager.pk, "name": f"Máy tính bảng{character}"})
    device.fields["user"].queryset = type(manager).objects.all()
    assert not device.is_valid() and said.replace("\\", "") in device.errors["name"][0]  # a device's
    client.force_login(manager)
    # Django drops them from an upload's own name; a zip's Shapefile brings its name from inside.
    zipped = zipped_shapefile(tmp_path, inside(demo_tree["99101"]), lambda part: f"ao{character}{part.suffix}")
    upload = SimpleUploadedFile("ao.zip", zipped)
    response = client.post(reverse("import-upload"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and said.replace("\\", "") in response.content.decode()  # a file's

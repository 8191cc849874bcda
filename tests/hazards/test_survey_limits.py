"""The survey's forms check a record's values against the server's limits before saving;
the page carries those limits, taken from the rules the server applies."""

import json
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hazards.services import clean_depth

pytestmark = pytest.mark.django_db


def page_config(client) -> dict:
    html = client.get(reverse("survey")).content.decode()
    return json.loads(re.search(r'<script id="survey-config" type="application/json">(.*?)</script>', html, re.S)[1])


def test_the_page_gives_the_depth_rule_the_server_applies(client):
    limits = page_config(client)["limits"]
    for field in ("depth_m", "water_depth_m"):
        depth = limits[field]
        assert clean_depth(str(depth["max"]), field) == Decimal(str(depth["max"]))
        for refused in (depth["above"], depth["max"] + 0.01):
            with pytest.raises(ValidationError) as refusal:
                clean_depth(str(refused), field)
            assert refusal.value.message_dict[field] == [depth["message"]]


def test_the_page_gives_the_lengths_the_sync_api_allows(client, api):
    limits = page_config(client)["limits"]
    html = client.get(reverse("survey")).content.decode()
    assert f'name="name" maxlength="{limits["name"]["maxLength"]}"' in html
    assert f'name="notes" rows="3" maxlength="{limits["notes"]["maxLength"]}"' in html
    too_long = {"notes": "x" * (limits["notes"]["maxLength"] + 1)}
    body = {
        "id": "0b0b0b0b-0000-4000-8000-000000000001",
        "site": "0b0b0b0b-0000-4000-8000-000000000002",
        "inspected_at": "2026-05-01T08:30:00+07:00",
        "signage": "none",
        "barrier": "none",
        **too_long,
    }
    answer = api.post(reverse("sync-inspection"), json.dumps(body), content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["errors"]["notes"] == [limits["notes"]["message"]]

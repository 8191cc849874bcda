"""A site's inspection history, as the survey's site sheet shows it: who inspected, by name;
and a site that has left the worker's areas since the tablet listed it answered as every
site outside them is, not found, saying what to do."""

import uuid

import pytest
from django.urls import reverse

from hazards.models import Site
from tests.hazards.test_sync_api import post, site_record

pytestmark = pytest.mark.django_db


def history_of(site_id) -> str:
    return reverse("site-inspections", args=[site_id])


def test_the_history_names_the_inspector_by_full_name(api, worker, demo_tree, make_site, inspect):
    worker.first_name, worker.last_name = "Lan", "Nguyễn Thị"
    worker.save()
    site = make_site(demo_tree["99101"])
    inspect(site, "2026-01-10T09:00", actor=worker)
    (item,) = api.get(history_of(site.pk), {"limit": 10}).json()["results"]
    assert item["inspector_name"] == worker.get_full_name()
    # The sign-in name stays for programs that read it.
    assert item["inspector"] == "lan"


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_history_of_a_site_no_longer_in_the_workers_areas_is_not_found(
    api, demo_tree, make_site, inspect, language
):
    site = make_site(demo_tree["99101"])
    inspect(site, "2026-01-10T09:00")
    assert api.get(history_of(site.pk)).json()["count"] == 1
    # A boundary reload, or a manager's correction, put it in another district.
    Site.objects.filter(pk=site.pk).update(area=demo_tree["99201"])

    refused = api.get(history_of(site.pk), headers={"Accept-Language": language})
    assert refused.status_code == 404
    body = refused.json()
    assert set(body) == {"code", "detail"} and body["code"] == "not_found"
    # The words the sync API answers a record of a site outside the worker's areas with,
    # which say what to do.
    record = site_record(demo_tree["99101"])
    inspection = {**record["inspection"], "id": str(uuid.uuid4()), "site": str(site.pk)}
    sent = post(api, "sync-inspection", inspection, **{"Accept-Language": language})
    assert sent.status_code == 404 and sent.json()["detail"] == body["detail"]
    assert ("ask your manager" if language == "en" else "đề nghị cán bộ quản lý") in body["detail"], body
    # The same answer for an id no site has: it never tells that the site exists.
    assert api.get(history_of(uuid.uuid4()), headers={"Accept-Language": language}).json() == body

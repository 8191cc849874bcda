"""A site's inspection history, as the survey's site sheet shows it: who inspected, by name."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_history_names_the_inspector_by_full_name(api, worker, demo_tree, make_site, inspect):
    worker.first_name, worker.last_name = "Lan", "Nguyễn Thị"
    worker.save()
    site = make_site(demo_tree["99101"])
    inspect(site, "2026-01-10T09:00", actor=worker)
    (item,) = api.get(reverse("inspection-list"), {"site": str(site.pk)}).json()["results"]
    assert item["inspector_name"] == worker.get_full_name()
    # The sign-in name stays for programs that read it.
    assert item["inspector"] == "lan"

"""Sessions end after half an hour without the person's own requests (the map renewing its
tile token by itself does not count) and twelve hours after signing in (OWASP ASVS 2)."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def signed_in(response) -> bool:
    return response.status_code == 200


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def browser(superuser, clock):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    return client


def test_the_limits_are_settings():
    assert settings.SESSION_IDLE_TIMEOUT_SECONDS == 30 * 60 == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS == 12 * 3600


def test_half_an_hour_idle_ends_the_session(browser, clock):
    assert signed_in(browser.get(reverse("admin:index")))
    clock.shift(29 * MINUTE)
    assert signed_in(browser.get(reverse("admin:index")))  # activity: the half hour starts again
    clock.shift(29 * MINUTE)
    assert signed_in(browser.get(reverse("admin:index")))
    clock.shift(31 * MINUTE)
    assert browser.get(reverse("admin:index")).status_code == 302  # to the sign-in page
    assert browser.get(reverse("map-sites"), {"bbox": "102,6,118,24"}).status_code == 401


def test_the_maps_own_renewals_do_not_keep_it_alive(browser, clock):
    assert signed_in(browser.get(reverse("map")))
    for _renewal in range(8):  # every 200 s, as the page does, for 26 minutes 40
        clock.shift(dt.timedelta(seconds=200))
        assert browser.get(reverse("map-tile-token")).status_code == 200
    clock.shift(4 * MINUTE)  # 30 minutes 40 since the person last did anything
    assert browser.get(reverse("map-tile-token")).status_code == 401
    assert browser.get(reverse("map")).status_code == 302


def test_twelve_hours_after_signing_in_it_ends_however_busy(browser, clock):
    for _hour in range(12 * 3):
        clock.shift(20 * MINUTE)
        assert signed_in(browser.get(reverse("admin:index")))
    clock.shift(20 * MINUTE)
    assert browser.get(reverse("admin:index")).status_code == 302

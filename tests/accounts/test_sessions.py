"""Sessions end after half an hour without the person's own requests (the map renewing its
tile token by itself does not count) and twelve hours after signing in (OWASP ASVS 2)."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import inside
from tests.mapping.test_tile_tokens import page_token, tile_with

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
    for _twenty_minutes in range(12 * 3 - 1):
        clock.shift(20 * MINUTE)
        assert signed_in(browser.get(reverse("admin:index")))
    clock.shift(20 * MINUTE)  # twelve hours to the second: ended, as the session's row says
    assert browser.get(reverse("admin:index")).status_code == 302


def test_the_database_holds_the_twelve_hour_end_so_the_maps_tiles_stop_there(browser, clock, demo_tree, make_site):
    """The twelve-hour end was applied only when a request with the cookie came: the
    session's row (expiring half an hour after the last activity) and so the map's tile
    grant outlived it, and a copied token read tiles past it (pentest)."""
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    end = timezone.now() + dt.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS)
    while timezone.now() + 25 * MINUTE < end - 2 * MINUTE:  # a busy day
        clock.shift(25 * MINUTE)
        assert signed_in(browser.get(reverse("admin:index")))
    clock.shift(end - 2 * MINUTE - timezone.now())
    token = page_token(browser)  # busy until two minutes before the end
    assert Session.objects.get(session_key=browser.session.session_key).expire_date <= end
    clock.shift(7 * MINUTE)
    assert tile_with(token, site).status_code == 401

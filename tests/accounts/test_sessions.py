"""Sessions end after half an hour without the person's own requests (the map renewing its
tile token by itself, the survey app's own rounds, do not count) and twelve hours after
signing in (OWASP ASVS 2)."""

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


# What the survey app asks for by itself every 15 minutes (a stale site list) and sends at
# its own rounds (records waiting, retried): the same requests the person's taps make.
SURVEY_ROUND = ["survey-me", "survey-sites", "survey-areas", "survey-proposals"]
PASSIVE = {"HTTP_X_PASSIVE_SESSION": "1"}


@pytest.fixture
def officer(demo_tree, make_user, clock):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("lan", demo_tree["99101"]))
    return client


def test_the_survey_apps_own_rounds_do_not_keep_it_alive(officer, clock):
    assert officer.get(reverse("survey-me")).status_code == 200  # the person opens the app
    for _round in range(2):  # 14 and 28 minutes later, the tablet left open
        clock.shift(14 * MINUTE)
        for name in SURVEY_ROUND:
            assert officer.get(reverse(name), **PASSIVE).status_code == 200
        assert officer.post(reverse("sync-site"), {}, content_type="application/json", **PASSIVE).status_code == 400
    clock.shift(3 * MINUTE)  # 31 minutes since the person last did anything
    assert officer.get(reverse("survey-me"), **PASSIVE).status_code == 401
    assert officer.get(reverse("survey-me")).status_code == 401  # ended: a tap does not bring it back


def test_what_the_person_does_in_the_survey_app_still_counts(officer, clock):
    for _tap in range(3):  # a site's sheet, a record sent as it is saved: same requests, no header
        clock.shift(20 * MINUTE)
        assert officer.get(reverse("survey-sites")).status_code == 200
        assert officer.post(reverse("sync-site"), {}, content_type="application/json").status_code == 400
    clock.shift(20 * MINUTE)
    assert officer.get(reverse("survey-me"), **PASSIVE).status_code == 200


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

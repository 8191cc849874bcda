"""A tablet nobody is signed in on takes no record (none could be sent) and says what to
do; a record made before a session ended waits for the same person's next sign-in, never
sent under another's name; what the app asks by itself does not keep a session from its
idle end."""

import datetime as dt
import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import Role
from accounts.sessions import TOUCHED
from hazards.models import Site
from tests.browser.tablet import READY, go_offline, open_app, register, sign_in, tablet, unsent, wait_unsent
from tests.conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOBODY = "Chưa có ai đăng nhập trên máy tính bảng này"


def test_a_tablet_never_signed_in_takes_no_record_and_says_what_to_do(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = context.new_page()
    page.goto(f"{stack.url}/survey/")
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#view-pair").wait_for()
    page.click("#new-site")
    assert page.locator("#view-register").is_hidden()
    assert NOBODY in page.locator("#banner").inner_text()
    assert page.locator("#view-pair").is_visible() and unsent(page) == "0"
    context.close()


def test_after_signing_out_the_banner_says_to_sign_in(browser, stack, worker, demo_tree):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    page.click("#menu-button")
    with page.expect_navigation():
        page.click("#sign-out-button")
    page.wait_for_selector(READY)
    page.locator("#banner", has_text=NOBODY).wait_for()
    # Not "your session has ended ... your records are kept": there are none.
    assert "phiên" not in page.locator("#banner").inner_text().lower()
    page.click("#new-site")
    assert page.locator("#view-register").is_hidden()
    context.close()


def test_records_wait_for_the_same_persons_next_sign_in(browser, stack, worker, demo_tree, make_user):
    make_user("minh", demo_tree["99101"], Role.FIELD_WORKER)
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    go_offline(context, page)
    register(page, "Ao của Lan")
    wait_unsent(page, 1)
    # Lan's session ends while she is in the field; back online, the tablet says whom to sign in.
    context.clear_cookies()
    context.set_offline(False)
    page.locator("#banner", has_text="lan").wait_for()

    # Minh signs in on the same tablet: Lan's record is not sent under his name.
    sign_in(page, stack, "minh")
    rounds = page.evaluate("Number(document.body.dataset.syncRounds || 0)")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(f"Number(document.body.dataset.syncRounds || 0) > {rounds}")
    assert not Site.objects.filter(name="Ao của Lan").exists()
    assert unsent(page) == "1"
    page.click("[data-view=outbox]")
    assert "lan" in page.locator("#outbox-list .owner").inner_text()

    context.clear_cookies()
    sign_in(page, stack, "lan")
    wait_unsent(page, 0)
    assert Site.objects.get(name="Ao của Lan").created_by == worker
    context.close()


MINUTES_16 = 16 * 60 * 1000  # the site list is then older than the app keeps it (data.js)


def session_of(context) -> Session:
    (key,) = [c["value"] for c in context.cookies() if c["name"] == "sessionid"]
    return Session.objects.get(session_key=key)


def idle_on_the_server(session: Session, minutes: int) -> dt.datetime:
    """The server's side of `minutes` without a request of the person's (the stack keeps the
    real clock): last touched then, ending when the rest of the half hour is up."""
    data = SessionStore().decode(session.session_data)
    data[TOUCHED] = int(time.time()) - minutes * 60
    ends = timezone.now() + dt.timedelta(minutes=30 - minutes)
    Session.objects.filter(pk=session.pk).update(session_data=SessionStore().encode(data), expire_date=ends)
    return ends


def test_the_apps_own_rounds_do_not_keep_an_idle_session_open(browser, stack, stack_sessions, worker, demo_tree):
    """An officer's tablet left open on the survey: the app refreshes its site list by itself
    every 15 minutes, which kept the session from ever idling (and the planner map's tile
    grant with it) until its 12-hour end."""
    here = inside(demo_tree["99101"])
    context = tablet(browser, here)
    page = context.new_page()
    page.clock.install()  # the app's timers run when the test moves this clock on
    sign_in(page, stack)
    page.wait_for_function("document.querySelector('#gps').textContent.includes('±')")
    ends = idle_on_the_server(session_of(context), minutes=29)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/v1/survey/sites/" in request.url else None)

    rounds = page.evaluate("Number(document.body.dataset.syncRounds || 0)")
    page.clock.fast_forward(MINUTES_16)
    page.wait_for_function(f"Number(document.body.dataset.syncRounds || 0) > {rounds}")
    page.wait_for_selector(READY)  # the list's second part, the areas and proposals came too
    assert asked, "the app did not refresh its site list"
    assert session_of(context).expire_date == ends  # the app's own requests moved nothing

    # What Lan does still counts: a site she registers is sent at once, as her activity.
    register(page, "Ao của Lan")
    wait_unsent(page, 0)
    assert session_of(context).expire_date > ends

    # A pond a hundred metres on (not the same one again), saved in the field, and Lan away
    # longer than the session lasts: it ends.
    context.set_geolocation({"latitude": here.y + 0.001, "longitude": here.x + 0.001, "accuracy": 7})
    page.wait_for_function(
        "lat => document.querySelector('#gps').textContent.includes(lat)", arg=f"{here.y + 0.001:.6f}"
    )
    go_offline(context, page)
    register(page, "Ao sau giờ nghỉ")
    wait_unsent(page, 1)
    Session.objects.filter(pk=session_of(context).pk).update(expire_date=timezone.now())
    # The network is back: the app's round finds the session ended, keeps the record, asks.
    context.set_offline(False)
    page.locator("#banner", has_text="lan").wait_for()
    assert unsent(page) == "1"
    assert not Site.objects.filter(name="Ao sau giờ nghỉ").exists()
    sign_in(page, stack)
    wait_unsent(page, 0)
    assert Site.objects.get(name="Ao sau giờ nghỉ").created_by == worker
    context.close()

"""The map's tile token lives no longer than what it stands for: signing out, an idle or
expired session, deactivation, a password change or a change of roles end it at once
(it outlived them by up to ten minutes). And the due filter reads the clock of each tile,
not the clock of the first tile that compiled the query."""

import datetime as dt

import mapbox_vector_tile
import psycopg
import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User
from accounts.scope import VIEW, mark_password_set, password_still_usable, scope_for
from accounts.services import user_deactivate
from areas.tree import refresh_paths
from mapping import tile_tokens
from tests.conftest import inside
from tests.mapping.test_tile_tokens import page_token, tile_with
from tests.mapping.tiles_helpers import fetch_tile, site_codes, tile_of

pytestmark = pytest.mark.django_db

SET_BY_MANAGER = "Mat-khau-quan-ly-2026!"


@pytest.fixture
def signed_in(demo_tree, make_user, make_site):
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    person = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(person)
    token = page_token(browser)
    assert tile_with(token, site).status_code == 200
    return browser, person, token, site


def ended(token, site) -> bool:
    refused = tile_with(token, site)
    return refused.status_code == 401 and refused.json()["detail"].startswith("The map's access to tiles has expired")


def test_signing_out_ends_the_token(signed_in):
    browser, _person, token, site = signed_in
    browser.post(reverse("logout"))
    assert ended(token, site)


def test_an_expired_session_ends_the_token(signed_in):
    browser, _person, token, site = signed_in
    Session.objects.filter(session_key=browser.session.session_key).update(expire_date=timezone.now())
    assert ended(token, site)


def test_deactivation_ends_the_token(signed_in, superuser):
    _browser, person, token, site = signed_in
    user_deactivate(actor=superuser, user=person)
    assert ended(token, site)


def test_a_password_change_ends_the_token(signed_in):
    _browser, person, token, site = signed_in
    person.set_password("Mat-khau-moi-2026!")
    person.save()
    assert ended(token, site)


def test_becoming_or_ceasing_to_be_a_superuser_ends_the_token(signed_in):
    _browser, person, token, site = signed_in
    person.is_superuser = True
    person.save(update_fields=["is_superuser"])
    assert ended(token, site)


def test_the_grant_keeps_no_copy_of_the_password_hash(signed_in):
    """A grant row read by whoever can read the map's tables gives nothing to crack."""
    _browser, person, _token, _site = signed_in
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(g)::text FROM mapping_tilegrant g WHERE g.user_id = %s", [person.pk])
        (row,) = cursor.fetchone()
    assert person.password not in row and person.password.split("$")[-1] not in row


def test_a_change_of_roles_ends_the_token(signed_in, demo_tree):
    _browser, person, token, site = signed_in
    Membership.objects.filter(user=person).update(area=demo_tree["992"])
    assert ended(token, site)


def test_the_token_of_the_old_roles_stays_ended_once_the_map_renews_its_own(signed_in, demo_tree):
    """The renewal made for the new roles gives the map a new token; the one that carried
    the old scope (a district this person no longer manages) does not come back with it."""
    browser, person, token, site = signed_in
    Membership.objects.filter(user=person).update(area=demo_tree["992"])
    renewed = browser.get(reverse("map-tile-token")).json()["token"]
    assert tile_with(renewed, site).status_code == 200
    assert ended(token, site)


def test_a_token_carries_the_roles_as_they_are_when_its_grant_is_made(signed_in, demo_tree, make_site):
    """Roles changed after the request read the person (its scope cached for the request)
    and before the token's grant was made: the token is made with the new roles, not with
    the old ones under a grant that no change will end any more."""
    browser, person, _token, site = signed_in
    elsewhere = make_site(demo_tree["99201"], location=inside(demo_tree["99201"]))
    request = RequestFactory().get(reverse("map-tile-token"))
    request.user = User.objects.get(pk=person.pk)
    request.session = SessionStore(browser.session.session_key)
    assert scope_for(request.user).allows(VIEW, demo_tree["99101"])  # as the request read it
    Membership.objects.filter(user=person).update(area=demo_tree["992"])
    token = tile_tokens.issue(request)
    assert site.code not in site_codes(mapbox_vector_tile.decode(tile_with(token, site).content))
    assert elsewhere.code in site_codes(mapbox_vector_tile.decode(tile_with(token, elsewhere).content))


def change_of_roles(person, isolation) -> psycopg.Connection:
    """Another connection (a script, an account import, psql) moving the person to district
    992 in a transaction it keeps open."""
    change = psycopg.connect(**connection.get_connection_params())
    change.isolation_level = isolation
    change.execute(
        "UPDATE accounts_membership SET area_id = (SELECT id FROM areas_area WHERE code = '992') WHERE user_id = %s",
        [person.pk],
    )
    return change


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("isolation", list(psycopg.IsolationLevel), ids=lambda level: level.name)
def test_a_token_made_before_a_change_of_roles_commits_ends_with_its_commit(demo_tree, make_user, make_site, isolation):
    """The person opens the map while a change of their roles is not yet committed and
    gets a token with the roles from before it. The change's commit ends it, at whatever
    isolation level it ran: the triggers that deleted grants had run before the grant was
    made, and at REPEATABLE READ could not see it at the commit either (pentests)."""
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    person = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    with change_of_roles(person, isolation):
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(person)
        token = page_token(browser)
        assert tile_with(token, site).status_code == 200  # the roles as committed
    # Leaving the block committed the change.
    assert not Membership.objects.filter(user=person, area=demo_tree["991"]).exists()
    assert ended(token, site)


@pytest.mark.django_db(transaction=True)
def test_no_map_waits_for_a_change_left_open(demo_tree, make_user, make_site):
    """A change of someone's roles left open (a psql session, a slow script) made every
    person's map wait for its commit, under a lock the token's issue shared (pentest)."""
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    worker = make_user("canbo", demo_tree["99101"], Role.FIELD_WORKER)
    person = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    with change_of_roles(worker, psycopg.IsolationLevel.READ_COMMITTED), connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")  # a wait fails the test instead of hanging it
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(person)
        assert tile_with(page_token(browser), site).status_code == 200
        assert browser.get(reverse("map-tile-token")).status_code == 200
        cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("isolation", list(psycopg.IsolationLevel), ids=lambda level: level.name)
def test_a_password_set_while_its_setters_loss_of_reach_is_open_ends_with_it(
    demo_tree, make_user, make_site, isolation
):
    """A script removes a manager's roles in a transaction still open; meanwhile the
    manager resets a worker's password, the worker signs in with it and opens the map. At
    the script's commit the password may not sign in (the manager no longer manages the
    worker), and the map's tiles end with it: the triggers had looked up whose password
    the manager set in the script's snapshot, before this one was (pentest)."""
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    manager = make_user("quan", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("tho", demo_tree["99101"], Role.FIELD_WORKER)
    with psycopg.connect(**connection.get_connection_params()) as script:
        script.isolation_level = isolation
        script.execute("SELECT 1")  # the snapshot of a repeatable read taken
        worker.set_password(SET_BY_MANAGER)
        worker.save(update_fields=["password"])
        mark_password_set(worker, manager)
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(worker)
        token = page_token(browser)
        assert tile_with(token, site).status_code == 200
        script.execute("DELETE FROM accounts_membership WHERE user_id = %s", [manager.pk])
    assert not password_still_usable(User.objects.get(pk=worker.pk))
    assert ended(token, site)


@pytest.mark.django_db(transaction=True)
def test_no_map_waits_for_a_person_being_deleted(demo_tree, make_user, make_site):
    """A person signed out long ago is being deleted by a script that has not committed;
    another person's map clears the grants of ended sessions when it opens, and waited on
    that person's, which the deletion holds (pentest)."""
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    leaving = make_user("nghi", demo_tree["99101"], Role.FIELD_WORKER)
    person = make_user("huyen", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    gone = Client(HTTP_ACCEPT_LANGUAGE="en")
    gone.force_login(leaving)
    page_token(gone)
    gone.post(reverse("logout"))  # the session ends; its grant is left to be cleared
    with psycopg.connect(**connection.get_connection_params()) as script, connection.cursor() as cursor:
        script.execute("DELETE FROM mapping_tilegrant WHERE user_id = %s", [leaving.pk])
        cursor.execute("SET lock_timeout = '2s'")  # a wait fails the test instead of hanging it
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(person)
        assert tile_with(page_token(browser), site).status_code == 200
        cursor.execute("RESET lock_timeout")


def test_a_count_of_standing_never_goes_back(signed_in):
    """Set back or deleted in SQL, a count would make the grants a change ended hold again."""
    _browser, person, token, site = signed_in
    Membership.objects.filter(user=person).update(role=Role.VIEWER)
    assert ended(token, site)
    for statement in (
        "UPDATE mapping_tilestanding SET version = version - 1 WHERE user_id = %s",
        "DELETE FROM mapping_tilestanding WHERE user_id = %s",
    ):
        with pytest.raises(DatabaseError, match="only counts up"), transaction.atomic():
            connection.cursor().execute(statement, [person.pk])
    assert ended(token, site)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts_membership SET role = 'viewer' WHERE user_id = %(person)s",
        "DELETE FROM accounts_membership WHERE user_id = %(person)s",
        "INSERT INTO accounts_membership (user_id, area_id, role, created_at)"
        " SELECT %(person)s, id, 'viewer', now() FROM areas_area WHERE code = '992'",
        "UPDATE accounts_user SET is_active = false WHERE id = %(person)s",
        "UPDATE accounts_user SET password = 'changed' WHERE id = %(person)s",
        # Renumbered on the way: still the same person's roles.
        "UPDATE accounts_membership SET id = id + 100000, area_id = (SELECT id FROM areas_area WHERE code = '992')"
        " WHERE user_id = %(person)s",
        # Constraints checked first: a truncate refuses to run with checks still pending.
        "SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE accounts_membership",
    ],
)
def test_a_change_made_in_sql_ends_the_token_as_one_made_by_the_application(signed_in, statement):
    """A database administrator's repair, a script: whatever writes the accounts, the map's
    tiles end with what they stood for."""
    _browser, person, token, site = signed_in
    with connection.cursor() as cursor:
        cursor.execute(statement, {"person": person.pk})
    assert ended(token, site)


def test_a_move_in_the_area_tree_ends_the_token(signed_in, demo_tree):
    """The token's scope is the areas' paths as they were: a commune moved to another
    district changes who manages it, so the map asks again."""
    _browser, _person, token, site = signed_in
    moved = demo_tree["99101"]
    moved.parent = demo_tree["992"]
    moved.save(update_fields=["parent"])
    refresh_paths()
    assert ended(token, site)


def test_what_leaves_the_persons_standing_as_it_was_keeps_the_token(signed_in, demo_tree):
    """Signing in elsewhere (last_login), a new phone number, an area renamed: the map goes on."""
    _browser, person, token, site = signed_in
    person.last_login = timezone.now()
    person.phone = "0912 345 678"
    person.save()
    Membership.objects.filter(user=person).update(created_at=timezone.now())
    demo_tree["991"].name = "Huyện mới"
    demo_tree["991"].save(update_fields=["name"])
    assert tile_with(token, site).status_code == 200


@pytest.mark.parametrize("change", ["deactivated", "moved", "above deactivated"])
def test_the_end_of_a_password_setter_s_reach_ends_the_token(demo_tree, make_user, make_site, superuser, change):
    """A password a manager set signs in only while they, and whoever knew their own
    password then, may still manage its holder (accounts.scope.password_still_usable): the
    map's tiles end with it, as the session does, not ten minutes later (pentests 6, 7)."""
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    setter = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    above = make_user("tinh", demo_tree["99"], Role.AREA_MANAGER, is_staff=True)
    holder = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    mark_password_set(setter, above)
    mark_password_set(holder, setter)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(holder)
    token = page_token(browser)
    assert tile_with(token, site).status_code == 200
    if change == "deactivated":
        user_deactivate(actor=superuser, user=setter)
    elif change == "above deactivated":
        user_deactivate(actor=superuser, user=above)
    else:
        Membership.objects.filter(user=setter).update(area=demo_tree["992"])
    assert ended(token, site)


def test_a_renewed_token_keeps_working_and_a_new_session_gets_its_own(signed_in):
    browser, person, token, site = signed_in
    renewed = browser.get(reverse("map-tile-token")).json()["token"]
    assert tile_with(token, site).status_code == 200 and tile_with(renewed, site).status_code == 200
    other = Client()
    other.force_login(person)
    elsewhere = page_token(other)
    other.post(reverse("logout"))
    assert ended(elsewhere, site)
    assert tile_with(renewed, site).status_code == 200  # the first session goes on


def test_the_due_filter_reads_each_tiles_clock(demo_tree, make_site, inspect, superuser):
    start = timezone.now().replace(microsecond=0)
    site = make_site(demo_tree["99101"], location=inside(demo_tree["99101"]))
    inspect(site, timezone.localtime(start - dt.timedelta(days=300)).replace(tzinfo=None).isoformat())
    where = tile_of(site.location.x, site.location.y, 14)
    with time_machine.travel(start, tick=False) as clock:
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.force_login(superuser)
        assert site_codes(fetch_tile(browser, *where, due="true")) == set()
        clock.shift(dt.timedelta(days=100))  # now checked 400 days ago: due
        browser.force_login(superuser)
        assert site_codes(fetch_tile(browser, *where, due="true")) == {site.code}

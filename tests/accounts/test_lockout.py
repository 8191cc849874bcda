"""Sign-in lockout, as the review tried it again: the name is counted as the sign-in form
reads it, an account is locked across addresses too, the refusal tells the truth (which
lock, until when) and a manager of the account can lift it."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from accounts.lockout import FAILURES_PER_ACCOUNT, FAILURES_PER_USER_AND_ADDRESS
from accounts.models import AuditEntry, LoginFailure, Role

pytestmark = pytest.mark.django_db


def sign_in(username, password, address="10.0.0.1"):
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")
    return client.post(reverse("login"), {"username": username, "password": password})


def locked(response) -> bool:
    return response.status_code == 200 and "too many failed sign-ins" in response.text.lower()


@pytest.mark.parametrize("variant", ["lan ", " lan", "LAN", "Lan\u3000", "ｌａｎ", "\tlan\n"])
def test_every_spelling_the_form_reads_as_the_name_shares_its_count(make_user, variant):
    make_user("lan")
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS - 1):
        sign_in(variant, "wrong")
    sign_in("lan", "wrong")
    # Locked whichever spelling comes next, the right password included.
    assert locked(sign_in("lan", "pw-Secret-123"))
    assert locked(sign_in(variant, "pw-Secret-123"))


def test_the_addresses_of_one_ipv6_subscriber_share_their_count(make_user):
    """A subscriber is given a whole /64: counted per address, each of its 2^64 addresses
    had fresh attempts at a name (pentest 5, B)."""
    make_user("lan")
    for attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        sign_in("lan", "wrong", address=f"2001:db8:1:2::{attempt + 1:x}")
    assert locked(sign_in("lan", "pw-Secret-123", address="2001:db8:1:2:ffff::9"))
    assert sign_in("lan", "pw-Secret-123", address="2001:db8:1:3::1").status_code == 302


def test_two_long_names_sharing_their_first_150_characters_are_locked_apart(make_user):
    """The key was cut to 150 characters (the column's width), and case folding lengthens
    a name ("ß" is "ss"): "a"*149+"s" and "a"*149+"ß" shared one lockout (pentest I5)."""
    make_user("a" * 149 + "s")
    long = "a" * 149 + "ß"
    make_user(long)
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        sign_in("a" * 149 + "s", "wrong")
    assert locked(sign_in("a" * 149 + "s", "pw-Secret-123"))
    assert sign_in(long, "pw-Secret-123").status_code == 302


def test_an_account_is_locked_across_addresses_until_the_time_it_says(make_user):
    make_user("lan")
    make_user("hoa")
    now = timezone.now().replace(microsecond=0)
    with time_machine.travel(now, tick=False) as clock:
        for attempt in range(FAILURES_PER_ACCOUNT):
            sign_in("lan", "wrong", address=f"198.51.100.{attempt}")  # never five from one address
            clock.shift(dt.timedelta(seconds=10))
        refused = sign_in("lan", "pw-Secret-123", address="203.0.113.99")
        assert refused.status_code == 200
        ends = timezone.localtime(now + dt.timedelta(minutes=15))
        assert "This account is locked after too many failed sign-ins. Try again after" in refused.text
        assert formats.time_format(ends) in refused.text
        assert sign_in("hoa", "pw-Secret-123", address="203.0.113.99").status_code == 302
        # The lock ends when the first of those failures leaves the window, as it said.
        clock.move_to(now + dt.timedelta(minutes=15) - dt.timedelta(seconds=1))
        assert locked(sign_in("lan", "pw-Secret-123", address="203.0.113.99"))
        clock.move_to(now + dt.timedelta(minutes=15, seconds=1))
        assert sign_in("lan", "pw-Secret-123", address="203.0.113.99").status_code == 302


def test_the_old_message_promised_what_a_password_reset_did_not_do(make_user):
    make_user("lan")
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        sign_in("lan", "wrong")
    refused = sign_in("lan", "pw-Secret-123")
    assert "reset your password" not in refused.text
    assert "Too many failed sign-ins with this name from this address. Try again after" in refused.text
    assert "unlock" in refused.text


def test_a_manager_of_the_account_unlocks_it_at_once(demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    worker = make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    for attempt in range(FAILURES_PER_ACCOUNT):
        sign_in("LAN ", "wrong", address=f"198.51.100.{attempt}")
    assert locked(sign_in("lan", "pw-Secret-123"))
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(manager)
    listing = admin.get(reverse("admin:accounts_user_changelist"))
    assert "locked until" in listing.text
    admin.post(reverse("admin:accounts_user_changelist"), {"action": "unlock", "_selected_action": [worker.pk]})
    assert sign_in("lan", "pw-Secret-123").status_code == 302
    entry = AuditEntry.objects.get(action="unlock")
    assert entry.actor == manager and entry.object_id == str(worker.pk) and entry.area_path == "/99/991/99101/"


def test_no_manager_unlocks_an_account_out_of_reach(demo_tree, make_user):
    manager = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    other = make_user("ba", demo_tree["99201"], Role.FIELD_WORKER)
    for attempt in range(FAILURES_PER_ACCOUNT):
        sign_in("ba", "wrong", address=f"198.51.100.{attempt}")
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(manager)
    admin.post(reverse("admin:accounts_user_changelist"), {"action": "unlock", "_selected_action": [other.pk]})
    assert locked(sign_in("ba", "pw-Secret-123"))
    assert not AuditEntry.objects.filter(action="unlock").exists()


def test_a_post_without_a_password_is_no_guess_and_forgets_no_failure(make_user):
    """A right password clears the name's failures from its address; a form sent with the
    password left empty checked nothing and cleared them too (4 guesses, one empty post,
    4 more...: no limit at all)."""
    make_user("lan")
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS - 1):
        sign_in("lan", "wrong")
    assert not locked(sign_in("lan", ""))
    sign_in("lan", "wrong")
    assert locked(sign_in("lan", "pw-Secret-123"))


def change_password(client, current, address="10.0.0.1"):
    new = "pw-Changed-456"
    return client.post(
        reverse("password-change"),
        {"old_password": current, "new_password1": new, "new_password2": new},
        REMOTE_ADDR=address,
    )


def test_the_current_password_of_the_password_change_is_guessed_no_faster_than_a_sign_in(make_user):
    """Pentest F11: a borrowed session guessed the account's password on the password-change
    page at full speed. Its failures now count as the sign-in's, and lock the sign-in too."""
    user = make_user("lan")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    for _attempt in range(FAILURES_PER_USER_AND_ADDRESS):
        wrong = change_password(client, "guess")
        assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.text
    refused = change_password(client, "pw-Secret-123")
    assert refused.status_code == 200 and "Too many failed sign-ins with this name from this address" in refused.text
    user.refresh_from_db()
    assert user.check_password("pw-Secret-123")
    assert locked(sign_in("LAN", "pw-Secret-123"))
    # From elsewhere, guesses spread over addresses reach the account's limit all the same.
    for attempt in range(FAILURES_PER_ACCOUNT - FAILURES_PER_USER_AND_ADDRESS):
        change_password(client, "guess", address=f"198.51.100.{attempt}")
    assert "This account is locked" in change_password(client, "pw-Secret-123", address="203.0.113.5").text


def test_the_right_current_password_changes_it_and_clears_the_failures(make_user):
    user = make_user("lan")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    change_password(client, "guess")
    assert change_password(client, "pw-Secret-123").status_code == 302
    user.refresh_from_db()
    assert user.check_password("pw-Changed-456")
    assert not LoginFailure.objects.exists()


def test_the_admin_s_own_password_change_is_the_counted_one(make_user):
    """Django's admin has a password change of its own (header → "Change password"), which
    checked the current password with no limit: it now leads to the counted page."""
    user = make_user("nam", is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    assert client.get("/admin/password_change/")["Location"] == reverse("password-change")
    assert reverse("admin:password_change") == "/admin/password_change/"  # what the admin's header links to
    new = "pw-Changed-456"
    answer = client.post(
        "/admin/password_change/", {"old_password": "pw-Secret-123", "new_password1": new, "new_password2": new}
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("password-change")
    user.refresh_from_db()
    assert user.check_password("pw-Secret-123")


def test_a_superuser_s_own_set_password_page_leads_to_the_counted_one(superuser):
    """The admin's set-password page of one's own account asked no current password: a
    borrowed superuser session set a new one for good (pentest P4)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    own = reverse("admin:auth_user_password_change", args=[superuser.pk])
    assert client.get(own)["Location"] == reverse("password-change")
    new = "Takeover-2026!zz"
    answer = client.post(own, {"password1": new, "password2": new, "usable_password": "true"})
    assert answer.status_code == 302 and answer["Location"] == reverse("password-change")
    superuser.refresh_from_db()
    assert superuser.check_password("pw-Secret-123")

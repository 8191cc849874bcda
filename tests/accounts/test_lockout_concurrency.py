"""The lockout's limits hold for guesses sent at once (pentest F2): real concurrent HTTP
requests against the live test server, each on its own thread and database connection.
Before the attempt was counted ahead of the password check, all of them read "not
locked" and nearly all were checked."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.lockout import FAILURES_PER_USER_AND_ADDRESS, lockout_name
from accounts.models import LoginFailure

pytestmark = pytest.mark.django_db(transaction=True)

AT_ONCE = 24
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def at_once(send, count=AT_ONCE) -> list:
    """send(i) on `count` threads released together; each prepares first (a page for its
    CSRF token) so that the requests themselves start at the same moment."""
    ready = threading.Barrier(count)

    def one(i):
        request = send(i)
        ready.wait(timeout=60)
        return request()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_guesses_sent_at_once_are_checked_no_more_than_the_limit(live_server, make_user):
    make_user("lan")

    def guess(i):
        session = requests.Session()
        session.headers["Accept-Language"] = "en"
        form = session.get(f"{live_server.url}/accounts/login/", timeout=60)
        token = CSRF_FIELD.search(form.text).group(1)
        body = {"csrfmiddlewaretoken": token, "username": "lan", "password": f"guess{i}"}
        return lambda: (
            session.post(f"{live_server.url}/accounts/login/", data=body, allow_redirects=False, timeout=60).text
        )

    pages = at_once(guess)
    checked = [page for page in pages if "Please enter a correct username and password" in page]
    refused = [page for page in pages if "Too many failed sign-ins with this name from this address" in page]
    assert len(checked) == FAILURES_PER_USER_AND_ADDRESS
    assert len(refused) == AT_ONCE - FAILURES_PER_USER_AND_ADDRESS
    assert LoginFailure.objects.filter(name_digest=lockout_name("lan")).count() == FAILURES_PER_USER_AND_ADDRESS


def test_pairing_codes_sent_at_once_are_checked_no_more_than_the_limit(live_server, db):
    def pair(i):
        def send():
            return requests.post(
                f"{live_server.url}/api/v1/pair/", json={"code": f"WRONG{i:03}"}, timeout=60
            ).status_code

        return send

    answers = at_once(pair)
    assert answers.count(400) == FAILURES_PER_USER_AND_ADDRESS
    assert answers.count(429) == AT_ONCE - FAILURES_PER_USER_AND_ADDRESS

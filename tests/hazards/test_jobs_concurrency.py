"""The per-person limit of waiting work holds for requests sent at once (pentest P2: 30
export requests at once queued 7 jobs, the limit being 3): real concurrent HTTP requests
against the live test server, each on its own thread and database connection."""

import pytest
import requests

from accounts.models import Role
from accounts.tokens import token_issue
from hazards.models import JobRun
from tests.accounts.test_lockout_concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_exports_asked_at_once_queue_no_more_than_the_limit(live_server, demo_tree, make_user, superuser, settings):
    settings.JOBS_MAX_WAITING_PER_PERSON = 3
    viewer = make_user("xem", demo_tree["99"], Role.VIEWER)
    _token, key = token_issue(actor=superuser, user=viewer, name="script")

    def export(i):
        url = f"{live_server.url}/api/v1/exports/sites.gpkg?area=991&n={i}"
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        return lambda: requests.get(url, headers=headers, timeout=60).status_code

    answers = at_once(export, 12)
    assert sorted(answers) == [202] * 3 + [400] * 9
    assert JobRun.objects.filter(created_by=viewer).count() == 3

"""Fixtures of the hazards tests: a field worker of commune 99101 and an API client
signed in as that worker."""

import pytest

from accounts.models import Role


@pytest.fixture
def worker(demo_tree, make_user):
    return make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)


@pytest.fixture
def api(client, worker):
    client.force_login(worker)
    return client

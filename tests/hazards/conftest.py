"""Fixtures of the hazards tests: a field worker of commune 99101 and an API client
signed in as that worker; a district officer signed in to the import page."""

import pytest

from accounts.models import Role


@pytest.fixture
def worker(demo_tree, make_user):
    return make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)


@pytest.fixture
def api(client, worker):
    client.force_login(worker)
    return client


@pytest.fixture
def import_officer(client, demo_tree, make_user, settings, tmp_path):
    """An area manager of district 991 signed in, with uploads and results kept in tmp_path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_UPLOAD_ROOT = tmp_path / "imports"
    user = make_user("nam", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    client.force_login(user)
    return user

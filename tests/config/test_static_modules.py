"""Under production's hashed static storage every module import of a page reaches the
hashed file, the one the service worker keeps offline (issue: app.js imported ./db.js
while the worker cached db.<hash>.js, and the survey died offline)."""

import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from config.static_modules import module_urls

pytestmark = pytest.mark.django_db

IMPORT = re.compile(r"""^\s*import\s[^'"]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""", re.M)


@pytest.fixture
def manifest_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "-v0")
    module_urls.cache_clear()
    yield tmp_path
    module_urls.cache_clear()


def published(path: str) -> str:
    """The file collectstatic wrote for a /static/ URL."""
    return (staticfiles_storage.location + "/" + path.removeprefix("/static/")).replace("//", "/")


def test_every_module_import_of_the_survey_resolves_to_a_hashed_file(manifest_storage, superuser):
    client = Client()
    client.force_login(superuser)
    page = client.get(reverse("survey")).text
    imports = json.loads(re.search(r'<script type="importmap" nonce="[^"]*">(.*?)</script>', page).group(1))["imports"]
    worker = client.get(reverse("survey-sw")).text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker).group(1))
    entry = re.search(r'<script type="module" src="([^"]+)"', page).group(1)
    seen, queue = set(), [entry]
    while queue:  # follow the imports as the browser does, through the map
        url = queue.pop()
        url = imports.get(url, url)
        if url in seen:
            continue
        seen.add(url)
        assert re.search(r"\.[0-9a-f]{12}\.js$", url), url
        assert url in shell, f"{url} is not kept offline by the service worker"
        source = Path(published(url)).read_text(encoding="utf-8")
        queue += [urljoin(url, a or b) for a, b in IMPORT.findall(source)]
    assert {u.rsplit("/", 1)[1].split(".")[0] for u in seen} >= {"app", "db", "geo", "outbox"}


def test_no_import_map_without_hashed_names(client, superuser):
    client.force_login(superuser)
    assert 'type="importmap"' not in client.get(reverse("survey")).text

"""A tablet through the production stack (nginx, TLS, hashed static files): offline work
survives a reload from the service worker, the app being closed and reopened, and a new
release deployed meanwhile; back online, everything is sent once, with its photos, which
are then viewable through nginx, and the old version's caches are gone. Photos of another
commune stay out of reach."""

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from accounts.models import Role
from config.browser import CHROMIUM
from hazards import services
from hazards.models import Inspection, Photo, Site
from tests.browser.conftest import no_internet
from tests.browser.tablet import READY, open_app, photo_file, register, tablet_options, unsent, wait_unsent
from tests.conftest import inside
from tests.stack import free_port, release, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SURVEY_CACHES = "caches.keys().then(keys => keys.filter(k => k.startsWith('survey-')))"
# A file as the page receives it: status, type and the SHA-256 of its bytes.
FETCHED = """async url => {
  const response = await fetch(url);
  const digest = await crypto.subtle.digest("SHA-256", await response.arrayBuffer());
  const hex = [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, "0")).join("");
  return [response.status, response.headers.get("content-type"), hex];
}"""
APP_MODULE = "JSON.parse(document.querySelector('script[type=importmap]').textContent).imports['/static/survey/app.js']"


def new_release(root):
    """What a deploy brings: a changed survey module (and so new hashed names)."""
    app = root / "static" / "survey" / "app.js"
    app.write_text(app.read_text() + "\n// release 2\n")


def test_offline_work_survives_restarts_and_a_new_release(
    playwright, chromium_args, certificate, demo_tree, make_user, make_site, superuser, tmp_path
):
    cert, key, _spki = certificate
    make_user("lan", demo_tree["99101"], Role.FIELD_WORKER)
    here = inside(demo_tree["99101"])
    elsewhere = make_site(demo_tree["99201"], name="Ao xã khác")
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(jpeg, format="JPEG")
    inspection = services.inspection_record(
        actor=superuser, site=elsewhere, inspected_at=elsewhere.created_at, signage="none", barrier="none"
    )
    foreign_photo, _ = services.photo_attach(actor=superuser, inspection=inspection, data=jpeg.getvalue())
    port = free_port()
    profile = tmp_path / "tablet-profile"

    def open_tablet(offline: bool):
        """The tablet's browser, with its storage (outbox, service worker) kept on disk."""
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=chromium_args, offline=offline, **tablet_options(here)
        )
        no_internet(context)
        return context

    with running_stack(tmp_path / "stack", cert, key, port=port) as old:
        context = open_tablet(offline=False)
        page = open_app(context, old)
        page.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)")
        page.wait_for_selector(READY)
        old_caches = page.evaluate(SURVEY_CACHES)
        old_app = page.evaluate(APP_MODULE)
        assert len(old_caches) == 1 and ".js" in old_app and old_app != "/static/survey/app.js"
        # A photo of another commune: 404 through nginx, by its address or the internal one.
        status = "url => fetch(url).then(r => r.status)"
        assert page.evaluate(status, foreign_photo.image.url) == 404
        assert page.evaluate(status, f"/protected-media/{foreign_photo.image.name}") == 404

        context.set_offline(True)
        page.wait_for_selector("#net.offline")
        register(page, "Ao thứ nhất", photos=[photo_file(tmp_path, "a.jpg")])
        wait_unsent(page, 1)
        page.reload()  # from the service worker: the hashed modules are in its cache
        page.wait_for_selector(READY)
        assert unsent(page) == "1"
        context.set_geolocation({"latitude": here.y + 0.001, "longitude": here.x + 0.001, "accuracy": 5})
        register(page, "Ao thứ hai", kind="canal", photos=[photo_file(tmp_path, "b.jpg")])
        wait_unsent(page, 2)
        context.close()  # the tablet is switched off

    # A new release is deployed in place (same stack folder, secret and address) while the
    # tablet is away.
    root = release(tmp_path, new_release)
    with running_stack(tmp_path / "stack", cert, key, root=root, port=port) as new:
        context = open_tablet(offline=True)
        page = context.new_page()
        page.goto(f"{new.url}/survey/")  # still offline: the old version, from its cache
        page.wait_for_selector(READY)
        assert unsent(page) == "2" and page.evaluate(APP_MODULE) == old_app
        assert not Site.objects.filter(name__startswith="Ao thứ").exists()

        context.set_offline(False)
        wait_unsent(page, 0)
        page.reload()  # online: the new version, and its service worker replaces the old
        page.wait_for_selector(READY)
        assert page.evaluate(APP_MODULE) not in (old_app, "/static/survey/app.js")
        page.wait_for_function(
            f"{SURVEY_CACHES}.then(keys => keys.length === 1 && keys[0] !== {old_caches[0]!r})", polling=200
        )
        assert unsent(page) == "0"
        # Sent with their photos, each viewable through nginx (the area scope, then
        # X-Accel-Redirect), byte for byte what the registry stored.
        photos = Photo.objects.filter(inspection__site__name__startswith="Ao thứ")
        assert photos.count() == 2
        for photo in photos:
            for file in (photo.image, photo.thumbnail):
                stored = hashlib.sha256((Path(settings.MEDIA_ROOT) / file.name).read_bytes()).hexdigest()
                assert page.evaluate(FETCHED, file.url) == [200, "image/jpeg", stored]
        context.close()

    assert Site.objects.filter(name="Ao thứ nhất").count() == 1
    assert Site.objects.filter(name="Ao thứ hai").count() == 1
    assert Inspection.objects.filter(site__name__startswith="Ao thứ").count() == 2
    assert Photo.objects.filter(inspection__site__name__startswith="Ao thứ").count() == 2

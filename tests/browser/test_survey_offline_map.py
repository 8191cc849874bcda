"""The basemap (issue #19, item 9): one setting that every map and the Content Security
Policy read; "offline map of my communes" stores its tiles on the tablet, with a size
estimate before and progress during, and the map shows them with no network. The tile
server is a local one started by the test (there is no internet here), served over TLS
with the stack's certificate, and a stack of its own is started with BASEMAP_URL set and
BASEMAP_OFFLINE on."""

import io
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from accounts.models import Role
from tests.browser.conftest import login, no_internet
from tests.browser.tablet import READY, open_app, tablet
from tests.conftest import inside
from tests.stack import running_stack

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 190)).save(out, format="PNG")
    return out.getvalue()


class TileServer:
    def __init__(self, cert, key):
        tile = _png()
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tile_server(certificate):
    cert, key, _spki = certificate
    server = TileServer(cert, key)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, certificate, tile_server, tmp_path_factory):
    """A stack whose basemap is the local tile server. The app opens at zoom 15 on the
    worker: two levels keep the download short here."""
    cert, key, _spki = certificate
    env = {
        "BASEMAP_URL": f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png",
        "BASEMAP_ATTRIBUTION": "Bản đồ nền thử",
        "BASEMAP_OFFLINE": "on",  # the operator has read this server's terms
    }
    with running_stack(
        tmp_path_factory.mktemp("basemap-stack"), cert, key, SURVEY_OFFLINE_ZOOMS="14-15", **env
    ) as running:
        yield running


def test_the_basemap_setting_feeds_every_map_and_the_policy(browser, stack, demo_tree, make_user, tile_server):
    make_user("quanly", demo_tree["991"], Role.AREA_MANAGER, is_staff=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    no_internet(context)
    page = context.new_page()
    login(page, stack, "quanly")
    for path in ["/map/", "/survey/"]:
        response = page.goto(f"{stack.url}{path}")
        policy = response.headers["content-security-policy"]
        assert f"img-src 'self' data: blob: {tile_server.url}" in policy
        assert f"connect-src 'self' {tile_server.url}" in policy
        page.wait_for_selector(f"img.leaflet-tile-loaded[src^='{tile_server.url}/']")
        assert "Bản đồ nền thử" in page.locator(".leaflet-control-attribution").first.inner_text()
    context.close()


def test_offline_map_of_my_communes_is_stored_and_shown_without_network(browser, stack, worker, demo_tree, tile_server):
    context = tablet(browser, inside(demo_tree["99101"]))
    page = open_app(context, stack)
    page.wait_for_function("navigator.serviceWorker.controller !== null || (location.reload(), false)", timeout=15000)
    page.wait_for_selector(READY)
    page.click("#menu-button")
    page.click("#offline-map-button")
    dialog = page.locator("#tiles-dialog")
    dialog.wait_for()
    estimate = page.locator("#tiles-estimate").inner_text()
    assert "MB" in estimate and "14" in estimate and "15" in estimate
    page.click("#tiles-download")
    page.wait_for_function("document.querySelector('#tiles-progress').value === 1")
    status = page.locator("#tiles-status").inner_text()
    assert "không có mạng" in status  # "it shows without a network"
    stored = page.evaluate("caches.open('basemap-tiles').then((c) => c.keys()).then((k) => k.length)")
    assert stored > 0
    assert len({p for p in tile_server.requests}) >= stored

    # No network at all (the tile server is gone too): the map still has its background.
    tile_server.stop()
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(READY)
    page.wait_for_selector("#map img.leaflet-tile-loaded")
    loaded = page.locator("#map img.leaflet-tile-loaded").count()
    assert loaded >= 4
    context.close()

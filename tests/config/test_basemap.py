"""Whether tablets may store the background map's tiles (BASEMAP_OFFLINE): only when the
operator turns it on, having read the tile server's terms, and never for OpenStreetMap's
own tile server, whose policy forbids it."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.basemap import basemap_offline

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_SUBDOMAINS = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
OWN = "https://tiles.example.gov.vn/{z}/{x}/{y}.png"


@pytest.mark.parametrize("url", [OSM, OSM_SUBDOMAINS, "https://tile.osm.org/{z}/{x}/{y}.png"])
def test_openstreetmaps_tile_server_is_not_stored_by_default(url):
    assert basemap_offline(url, None) is False
    assert basemap_offline(url, "off") is False


def test_another_tile_server_is_stored_only_once_the_operator_says_its_terms_allow_it():
    # The registry cannot read a server's terms: many public ones forbid storing too.
    assert basemap_offline(OWN, None) is False
    assert basemap_offline(OWN, "") is False
    assert basemap_offline(OWN, "off") is False
    assert basemap_offline(OWN, "on") is True
    # A look-alike host is not OpenStreetMap's.
    assert basemap_offline("https://tile.openstreetmap.org.example.com/{z}/{x}/{y}.png", "on") is True


def test_a_word_that_is_not_on_or_off_stops_the_start():
    with pytest.raises(ImproperlyConfigured, match="write on or off"):
        basemap_offline(OWN, "perhaps")


def test_turning_it_on_for_openstreetmaps_tile_server_is_refused_at_start():
    with pytest.raises(ImproperlyConfigured, match="BASEMAP_URL"):
        basemap_offline(OSM, "on")

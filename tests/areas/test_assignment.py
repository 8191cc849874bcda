"""A site's area is the lowest loaded area covering its point; a border point has one owner."""

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from areas.assignment import area_containing, place_points
from areas.models import Area
from tests.conftest import inside

pytestmark = pytest.mark.django_db


def test_point_goes_to_the_commune(demo_tree):
    assert area_containing(inside(demo_tree["99203"])).code == "99203"


def test_point_outside_every_area(demo_tree):
    assert area_containing(Point(108.0, 12.0, srid=4326)) is None


def on_shared_border(demo_tree) -> Point:
    """A vertex of the border of the demo communes 99101 and 99102: exactly on both."""
    a, b = demo_tree["99101"], demo_tree["99102"]
    border = a.geom.intersection(b.geom)
    assert border.length > 0, "the demo communes 99101 and 99102 share a border"
    point = Point(*(border.coords[0] if border.geom_type == "LineString" else border[0].coords[0]), srid=4326)
    assert a.geom.covers(point) and b.geom.covers(point)
    return point


def in_a_gap() -> Point:
    """A point of commune 99303 once its boundary is gone: a commune file that does not
    cover its whole district."""
    commune = Area.objects.get(code="99303")
    point = inside(commune)
    commune.pieces.all().delete()
    return point


def test_point_on_shared_border_goes_to_smaller_code(demo_tree):
    assert area_containing(on_shared_border(demo_tree)).code == "99101"


def test_point_in_a_gap_between_communes_goes_to_the_district(demo_tree):
    assert area_containing(in_a_gap()).code == "993"


def test_a_batch_of_points_gets_the_same_owners_as_single_points(demo_tree):
    """place_points (imports) follows owner_of's rule: commune, shared border, gap (placed
    at the level above, after the communes), outside (counted as unplaced)."""
    points = [inside(demo_tree["99203"]), on_shared_border(demo_tree), in_a_gap(), Point(108.0, 12.0, srid=4326)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE batch (row_no integer, location geometry(Point, 4326))")
        cursor.execute("CREATE INDEX ON batch USING gist (location)")
        for number, point in enumerate(points):
            cursor.execute("INSERT INTO batch VALUES (%s, ST_GeomFromEWKT(%s))", [number, point.ewkt])
        cursor.execute("CREATE TEMPORARY TABLE batch_owner (row_no integer, area_id bigint)")
        unplaced = place_points(cursor, "batch", "batch_owner")
        cursor.execute("SELECT row_no, area_id FROM batch_owner")
        owners = dict(cursor.fetchall())
        cursor.execute("DROP TABLE batch, batch_owner")
    assert unplaced == 1
    assert [Area.objects.get(pk=owners[n]).code if n in owners else None for n in range(4)] == [
        "99203",
        "99101",
        "993",
        None,
    ]
    assert [area_containing(p) and area_containing(p).code for p in points] == ["99203", "99101", "993", None]

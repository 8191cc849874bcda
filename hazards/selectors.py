"""Reads of sites that matter for speed: the compact list of the sites a field worker
surveys, which a tablet fetches on its first load and keeps for offline work."""

import datetime as dt

from django.db.models import F, FloatField, Func, IntegerField, TextField
from django.db.models.functions import Cast

from accounts.scope import SURVEY, scope_for

from .filters import SITE_OPEN
from .models import Site
from .rules import Due

# Metres matter, centimetres do not: five decimals of a degree are about 1.1 m.
COORDINATE_DECIMALS = 5
SURVEY_SITE_COLUMNS = ["id", "code", "name", "kind", "state", "signage", "barrier", "checked", "due", "lon", "lat"]


class _Coordinate(Func):
    """A point's longitude (ST_X) or latitude (ST_Y), rounded in the database."""

    template = f"round(%(function)s(%(expressions)s)::numeric, {COORDINATE_DECIMALS})::float8"
    output_field = FloatField()


def survey_sites(user, now: dt.datetime) -> dict:
    """The open sites the user surveys as rows of SURVEY_SITE_COLUMNS: checked is the
    day of the last check (Vietnam time) or null, due is 1 when the state is unverified
    (hazards/rules.py), state is the site's (hazards/rules.py). Every value is made
    by the database as text or a number: converting ten thousand rows' ids, times and
    points in Python took seconds. Rows go by place (geohash), so neighbours'
    coordinates share their leading digits and compress."""
    rows = (
        scope_for(user)
        .restrict(Site.objects.filter(SITE_OPEN), SURVEY)
        .annotate(
            text_id=Cast("id", TextField()),
            checked=Cast(Func(F("last_checked_at"), function="registry_local_date"), TextField()),
            due=Cast(Due(now), IntegerField()),
            lon=_Coordinate(F("location"), function="ST_X"),
            lat=_Coordinate(F("location"), function="ST_Y"),
        )
        .order_by(Func(F("location"), function="ST_GeoHash"))
        .values_list("text_id", *SURVEY_SITE_COLUMNS[1:])
    )
    return {"columns": SURVEY_SITE_COLUMNS, "sites": [list(row) for row in rows]}

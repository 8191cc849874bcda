"""The survey's site list read back as a tablet reads it (static/survey/sitelist.js):
the first part, then the second part of its version, as one dict per site."""

import json

from django.urls import reverse

from hazards.selectors import DETAIL_COLUMNS, SiteList


def version_of(response) -> str:
    return response["ETag"].removeprefix("W/").strip('"')


def fetch_rows(client) -> list[dict]:
    response = client.get(reverse("survey-sites"))
    rest = client.get(reverse("survey-sites-rest"), {"version": version_of(response)})
    return rows_of(response.json(), rest.json())


def list_rows(site_list: SiteList) -> list[dict]:
    """The rows of a list made by hazards.selectors.survey_site_list."""
    return rows_of(json.loads(site_list.first), json.loads(site_list.rest))


def rows_of(first: dict, rest: dict) -> list[dict]:
    """One dict per site: id, DETAIL_COLUMNS, signage, barrier, due, lon, lat."""

    def details(columns: dict):
        values = zip(*(columns[name] for name in DETAIL_COLUMNS), strict=True)
        return (dict(zip(DETAIL_COLUMNS, row, strict=True)) for row in values)

    due_details, other_details = details(first["due_sites"]), details(rest["other_sites"])
    rows, x, y = [], 0, 0
    for i in range(first["count"]):
        x, y = x + first["x"][i], y + first["y"][i]
        due = first["due"][i] == "1"
        rows.append(
            {
                "id": rest["id"][i],
                **next(due_details if due else other_details),
                "signage": first["signage_values"][int(first["signage"][i])],
                "barrier": first["barrier_values"][int(first["barrier"][i])],
                "due": due,
                "lon": x / first["scale"],
                "lat": y / first["scale"],
            }
        )
    return rows

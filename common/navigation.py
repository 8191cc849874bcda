"""Links from a page of a lower app to the pages of the apps above it.

Apps depend downward only (README, Layout), their pages too: a page names by URL only
pages of its own app and of the apps below (tests/test_layers.py), or it would fail to
render without the app above. Where a page shows a link upward (the header's menu, an
order's notice files, the map after an import, the page a tablet pairs on), it asks for
the links offered at a place, and each app above offers its own there in its
AppConfig.ready(): an app not installed offers nothing, and its link is not shown.

The place names a page asks for are constants of the app whose page it is (MENU and
ACCOUNT here: the frame, templates/base.html, which every app's pages render)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

MENU = "menu"  # the header's links to the apps' pages
ACCOUNT = "account"  # beside the signed-in person's name


@dataclass(frozen=True)
class Link:
    url_name: str
    label: str = ""  # what a person reads (gettext_lazy)
    position: int = 0  # the place's links are shown by it, lowest first
    shown: Callable | None = None  # shown(user): whether this person is offered the link (all if None)
    args: Callable | None = None  # args(record): the URL's arguments, for a place about one record


@dataclass(frozen=True)
class Shown:
    label: str
    url: str


OFFERED: dict[str, list[Link]] = {}


def offer(place: str, *links: Link) -> None:
    OFFERED[place] = sorted([*OFFERED.get(place, []), *links], key=lambda link: link.position)


def links(place: str, user=None, record=None) -> list[Shown]:
    """The links offered at `place` that `user` is shown, to `record`'s pages if the place
    is about one."""
    return [
        Shown(link.label, reverse(link.url_name, args=link.args(record) if link.args else ()))
        for link in OFFERED.get(place, [])
        if link.shown is None or link.shown(user)
    ]


def header(request) -> dict:
    """The frame's links (a context processor); asked only when a template reads them
    (pages without the header do not)."""
    return {"menu": lambda: links(MENU, request.user), "account_links": lambda: links(ACCOUNT, request.user)}

"""What every page's header offers a person, by the rules of the pages it links to
(accounts/scope.py), so that a link shows exactly to those the page lets in."""

from .scope import may_import


def navigation(request) -> dict:
    # Asked only when a template reads it (pages without the header do not).
    return {"may_import": lambda: may_import(request.user)}

"""The APIs' pages, refusing what they cannot read. DRF takes a `limit`, `offset` or
`page_size` it cannot read for its default and answers a page past the end with a bare
"Invalid page.": a client that mistyped a parameter got another list than it asked for,
without knowing. Here each is a 400 naming the parameter, as every other parameter is,
and a page past the end a 404 that says which pages there are, in the one error shape."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework_gis.pagination import GeoJsonPagination

from common.numbers import format_number

# Past any list there is: PostgreSQL's OFFSET is a bigint, and a larger one was a 500.
MAX_OFFSET = 10**9


def whole_number(request, name: str, least: int, most: int | None = None) -> int | None:
    """The parameter `name`: a whole number of `least` or more (at most `most`, larger
    ones taken as `most`), None when it is not given."""
    value = request.query_params.get(name, "")
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < least:
        message = _("Give a whole number of %(least)s or more.") % {"least": format_number(least)}
        raise ValidationError({name: [message]})
    return number if most is None else min(number, most)


class Pages(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000

    def get_limit(self, request):
        limit = whole_number(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return whole_number(request, self.offset_query_param, 0, MAX_OFFSET) or 0


class FeaturePages(GeoJsonPagination):
    """Pages of a GeoJSON FeatureCollection: ?page= and ?page_size=."""

    def get_page_size(self, request):
        size = whole_number(request, self.page_size_query_param, 1, self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator):
        self.last_page = paginator.num_pages
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            return paginator.num_pages
        return whole_number(request, self.page_query_param, 1) or 1

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:  # past the last page: whole_number refused any other page number
            raise NotFound(
                _("There is no page %(page)s in this list: its pages run from 1 to %(last)s (%(size)s a page).")
                % {
                    "page": format_number(whole_number(request, self.page_query_param, 1)),
                    "last": format_number(self.last_page),
                    "size": format_number(self.get_page_size(request)),
                }
            ) from None

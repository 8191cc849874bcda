"""How the API reads what a request asks for: the JSON parser, DRF's, except that a
document nested beyond the interpreter's recursion limit (the decoder raises
RecursionError at a few thousand levels) is refused as malformed, 400, not a server
error; and the content negotiation, DRF's, except that a `format` the address does not
offer is refused naming it, 400, where DRF answered "Not found." as if the address did
not exist. Apart from config/errors.py, which DRF's settings would import half-loaded."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, negotiation, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from None


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    def filter_renderers(self, renderers, format):
        chosen = [renderer for renderer in renderers if renderer.format == format]
        if not chosen:
            offered = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            message = _("%(parameter)s must be one of: %(offered)s.") % {"parameter": "format", "offered": offered}
            raise exceptions.ValidationError({"format": [message]})
        return chosen

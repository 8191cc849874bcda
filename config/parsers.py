"""The API's JSON parser: DRF's, except that a document nested beyond the interpreter's
recursion limit (the decoder raises RecursionError at a few thousand levels) is refused
as malformed, 400, not a server error. Apart from config/errors.py, which DRF's settings
would import half-loaded."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from None

"""The API's one unauthenticated write: a tablet spends a pairing code for its device
token (accounts/pairing.py). The contract the survey app is built against:

POST /api/v1/pair/ {"code": "ABCD-EFGH", "device_name": "<text>"}
  200 {"token": "<key>", "username": "...", "full_name": "..."}
  400 {"code": "pairing_invalid", "detail": "<message>"}   wrong, expired or spent code
  429 {"code": "pairing_throttled", "detail": "<message>"} too many wrong codes from the address
"""

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import error_body, error_responses

from .lockout import Locked, begin, client_address, succeeded
from .pairing import LOCKOUT_NAME, PairingInvalid, pairing_complete

PAIR_IN = inline_serializer(
    "PairIn", {"code": serializers.CharField(), "device_name": serializers.CharField(required=False)}
)
PAIR_OUT = inline_serializer(
    "PairOut",
    {
        "token": serializers.CharField(),
        "username": serializers.CharField(),
        "full_name": serializers.CharField(),
        "device_name": serializers.CharField(),
    },
)


class PairView(APIView):
    """Pair a tablet: spend a pairing code shown by a manager, get the worker's device
    token (sent afterwards as `Authorization: Token <key>`). No sign-in, no CSRF token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=PAIR_IN, responses={200: PAIR_OUT, **error_responses(400, 429)})
    def post(self, request):
        try:
            attempt = begin(LOCKOUT_NAME, client_address(request), per_account=False)
        except Locked as locked:
            until = formats.time_format(timezone.localtime(locked.lock.until))
            detail = _("Too many wrong pairing codes from this address. Try again after %(time)s.") % {"time": until}
            return Response(error_body("pairing_throttled", detail), status=status.HTTP_429_TOO_MANY_REQUESTS)
        try:
            data = request.data if isinstance(request.data, dict) else {}
        except ParseError:  # not JSON: as any other code that is no code
            data = {}
        try:
            paired = pairing_complete(code=data.get("code"), device_name=data.get("device_name"))
        except PairingInvalid:  # the attempt stays counted
            detail = _("This pairing code is wrong, has expired or was already used. Ask your manager for a new one.")
            return Response(error_body("pairing_invalid", detail), status=status.HTTP_400_BAD_REQUEST)
        succeeded(attempt)
        name = paired.user.get_username()
        return Response(
            {
                "token": paired.key,
                "username": name,
                "full_name": paired.user.get_full_name() or name,
                "device_name": paired.name,
            }
        )

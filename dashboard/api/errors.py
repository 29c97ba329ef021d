"""Every error of the API as JSON with a `detail` for people, in the language the request asked
for (Accept-Language, through the same catalogs as the pages), and a status a script can
branch on:

- 400 a request that is not valid (`errors` says which field and why), 401 no or a bad token,
  403 beyond the token's scope or the member's role (with the reason), 404, 409 a host, disk or
  image busy with another action (`operation` names it) or in a state that does not allow the
  action, 429 too many requests (with Retry-After), 503 the catalog cannot be read yet.

A refusal (403) is audited, as the pages' are, unless the service that refused already did.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dashboard import permissions, selectors
from dashboard.services import OperationRefused
from dashboard.services.audit import refusal_record
from dashboard.services.tokens import TokenInvalid


class CatalogNotReady(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "catalog_not_ready"

    def __init__(self, detail=None) -> None:
        super().__init__(
            detail
            or _(
                "The catalog is not loaded yet (the worker fetches it from Xuandashi); try again "
                "in a minute."
            )
        )


def exception_handler(exc, context):
    request = context.get("request")
    extra: dict = {}
    if isinstance(exc, permissions.Forbidden):
        if not exc.audited and request is not None:
            refusal_record(request._request, reason=exc.message)
        return _answer(status.HTTP_403_FORBIDDEN, exc.message)
    if isinstance(exc, OperationRefused):
        if exc.in_flight is not None:
            extra["operation"] = exc.in_flight.pk
        return _answer(status.HTTP_409_CONFLICT, exc.message, **extra)
    if isinstance(exc, TokenInvalid):
        return _answer(status.HTTP_400_BAD_REQUEST, exc.message)
    if isinstance(exc, selectors.CatalogUnreadable):
        exc = CatalogNotReady(
            _(
                "The catalog cannot be read right now (the dashboard's cache does not answer). "
                "Try again in a few minutes."
            )
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: logged, and answered by the 500 handler
    data = response.data
    if not (isinstance(data, dict) and set(data) <= {"detail"}):
        response.data = {"detail": _("The request is not valid; see errors."), "errors": data}
    if response.status_code == status.HTTP_403_FORBIDDEN and request is not None:
        refusal_record(request._request, reason=str(response.data["detail"]))
    return response


def _answer(code: int, detail: str, **extra) -> Response:
    return Response({"detail": detail, **extra}, status=code)


def json_not_found(request) -> JsonResponse:
    """A URL under /api/ that names no endpoint: JSON like the rest of the API."""
    return JsonResponse({"detail": _("No such endpoint.")}, status=404)

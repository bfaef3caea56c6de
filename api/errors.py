"""Every error under /api/ is JSON, ``{"detail": "<a sentence>"}`` (docs/api.md).

Two doors lead to an error, and both answer JSON for a path under /api/:

- inside a DRF view, :func:`api_exception_handler` (``EXCEPTION_HANDLER``):
  DRF's own answers (400, 403, 404, 405 …), and a 500 for anything else;
- before or outside a view (no URL matches, a bad Host header, a failure
  after the view), Django's ``handler400``/``404``/``500``, which the
  project's URLconf points here: JSON under /api/, Django's own pages (the
  site's 404.html and 500.html) everywhere else.
"""

from typing import Any

from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.log import log_response
from django.views import defaults
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

API_PREFIX = "/api/"

BAD_REQUEST = "The request could not be understood."
NOT_FOUND = "There is nothing at this address. /api/v1/schema/ lists the API's endpoints."
SERVER_ERROR = "Something went wrong on our side; it has been logged. Please try again later."


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's answer for the errors it knows; for any other, a JSON 500, logged as Django would.

    In every mode, DEBUG included: an API client can't read a debug page,
    and the traceback is in the log either way.
    """
    response = exception_handler(exc, context)
    if response is not None:
        return response
    request = getattr(context.get("request"), "_request", None)  # Django's, under DRF's
    set_rollback()
    response = Response({"detail": SERVER_ERROR}, status=500)
    # Django's own record of an unhandled exception: the log line (with the
    # traceback, tokens masked by the log filter) and the signal, on which the
    # test client re-raises it.
    log_response(
        "Internal Server Error: %s",
        request.path if request is not None else API_PREFIX,
        response=response,
        request=request,
        exception=exc,
    )
    got_request_exception.send(sender=None, request=request)
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": BAD_REQUEST}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": NOT_FOUND}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": SERVER_ERROR}, status=500)
    return defaults.server_error(request)

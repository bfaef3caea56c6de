"""``GET /api/v1/statistics/``: the Statistics' figures as JSON, the same
the console shows (``stats.figures``), for a key with the ``statistics``
scope (its library's queues) or a logged-in librarian (their scope, as in
the console). Every parameter is checked: one it doesn't know, or a bad
value, is a 400 naming it."""

from datetime import timedelta
from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.keys import KeyOrLibrarian, LibraryKeyAuthentication
from api.models import LibraryAPIKey, Scope
from api.serializers import VALIDATION_ERROR_SCHEMA, ErrorSerializer
from stats.figures import figures
from stats.forms import StatsFilterForm
from stats.scope import StatsScope, library_scope, stats_scope

PARAMETERS = {
    "start": "The first day, YYYY-MM-DD in the library's zone (default: 29 days before the end).",
    "end": "The last day, YYYY-MM-DD (default: today in the library's zone).",
    "period": "Sessions by day, week or month (default: day).",
    "library": "Only patrons of this library (its id).",
    "queue": "Only this queue (its id or its slug).",
    "librarian": "Only sessions this librarian held (their id; a supervisor's or a key's).",
}


def _seconds(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float):
        return round(value, 4)
    return value


@method_decorator(never_cache, name="dispatch")
class StatisticsView(APIView):
    authentication_classes = (LibraryKeyAuthentication, SessionAuthentication)
    permission_classes = (KeyOrLibrarian,)
    key_scope = Scope.STATISTICS

    @extend_schema(
        tags=["statistics"],
        summary="The Statistics' figures for a date range",
        parameters=[
            OpenApiParameter(
                name,
                OpenApiTypes.DATE if name in ("start", "end") else OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description=text,
                enum=["day", "week", "month"] if name == "period" else None,
            )
            for name, text in PARAMETERS.items()
        ],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="`range`, `zone`, `summary` (counts; waits and durations in "
                "seconds) and `tables` (each with `title`, `columns`, `rows`).",
            ),
            400: OpenApiResponse(VALIDATION_ERROR_SCHEMA, description="The body names the field."),
            401: OpenApiResponse(
                ErrorSerializer, description="An unknown, revoked or expired key."
            ),
            403: OpenApiResponse(ErrorSerializer, description="No statistics scope, no log-in."),
        },
    )
    def get(self, request: Request) -> Response:
        unknown = sorted(set(request.query_params) - set(PARAMETERS))
        if unknown:
            raise ValidationError({name: ["This parameter is not known here."] for name in unknown})
        scope = self._scope(request)
        data = request.query_params.copy()
        queue = data.get("queue", "")
        if queue and not queue.isdigit():  # a slug
            pk = scope.queues().filter(slug=queue).values_list("pk", flat=True).first()
            data["queue"] = str(pk) if pk else queue
        form = StatsFilterForm(data, scope=scope)
        if not form.is_valid():
            raise ValidationError(
                {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            )
        given = form.cleaned_data
        found = figures(form.stats_filter())
        return Response(
            {
                "range": {"start": given["start"], "end": given["end"], "period": given["period"]},
                "zone": scope.zone,
                "summary": {key: _seconds(value) for key, value in found.summary.items()},
                "tables": {
                    name: {"title": t.title, "columns": t.columns, "rows": t.rows}
                    for name, t in found.tables.items()
                },
            }
        )

    @staticmethod
    def _scope(request: Request) -> StatsScope:
        if isinstance(request.auth, LibraryAPIKey):
            return library_scope(request.auth.library)
        return stats_scope(request.user)

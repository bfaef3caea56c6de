"""``/api/v1/queues/``: a library's queues, named by id or by slug, with
their weekly hours, special days to come and status; ``…/open/`` and
``…/close/`` switch a queue on and off. A key of the library reads them
(``queues`` or ``status`` scope) and switches them (``queues`` scope); a
logged-in librarian reads their own queues and switches none."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.keys import KeyOrLibrarian, LibraryKeyAuthentication
from api.models import LibraryAPIKey, Scope
from api.selectors import status_of
from api.serializers import ErrorSerializer
from queues.hours import queue_schedule, queue_time_zone
from queues.models import Queue
from queues.services import queue_switch

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SPECIAL_DAYS_AHEAD = 60
QUEUE = OpenApiParameter(
    "queue",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The queue's id or its slug.",
)
QUEUE_DOC = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="`id`, `slug`, `name`, `libraries`, `switched_on`, `zone`, `hours` (by weekday, "
    "each a list of `[opens, closes]`; empty: closed; null: no hours kept, always within "
    "hours), `special_days` of the next 60 days, and `status` (`state`, `open`, `reason`).",
)
NOT_YOURS = OpenApiResponse(ErrorSerializer, description="No such queue of the key's library.")
NOT_ALLOWED = {
    401: OpenApiResponse(ErrorSerializer, description="An unknown, revoked or expired key."),
    403: OpenApiResponse(ErrorSerializer, description="No queues or status scope; no log-in."),
}


def _queues(request: Request) -> Any:
    key = request.auth if isinstance(request.auth, LibraryAPIKey) else None
    if key is not None:
        return Queue.objects.filter(libraries=key.library).distinct()
    librarian = getattr(request.user, "librarian", None)
    return Queue.objects.filter(memberships__librarian=librarian).distinct()


def _queue(request: Request, named: str) -> Queue:
    queues = _queues(request)
    found = (
        queues.filter(pk=int(named)).first()
        if named.isdigit() and int(named) < 2**63
        else queues.filter(slug=named).first()
    )
    if found is None:
        raise NotFound("There is no such queue of yours (an id or a slug).")
    return found


def _payload(queue: Queue) -> dict[str, Any]:
    schedule = queue_schedule(queue)
    hours = None
    special: list[dict[str, Any]] = []
    if schedule is not None:
        hours = {
            name: [[f"{o:%H:%M}", f"{c:%H:%M}"] for o, c in sorted(schedule.weekly.get(i, ()))]
            for i, name in enumerate(WEEKDAYS)
        }
        today = timezone.now().astimezone(schedule.zone).date()
        horizon = today + timedelta(days=SPECIAL_DAYS_AHEAD)
        special = [
            {
                "date": day.isoformat(),
                "name": schedule.names.get(day, ""),
                "hours": [[f"{o:%H:%M}", f"{c:%H:%M}"] for o, c in sorted(periods)],
            }
            for day, periods in sorted(schedule.special.items())
            if today <= day <= horizon
        ]
    availability = status_of(queue)["availability"]
    return {
        "id": queue.pk,
        "slug": queue.slug,
        "name": queue.name,
        "libraries": [library.name for library in queue.libraries.order_by("name")],
        "switched_on": queue.is_open,
        "zone": queue_time_zone(queue),
        "hours": hours,
        "special_days": special,
        "status": {
            "state": availability.state,
            "open": availability.open,
            "reason": availability.reason,
        },
    }


class QueueAPIView(APIView):
    authentication_classes = (LibraryKeyAuthentication, SessionAuthentication)
    permission_classes = (KeyOrLibrarian,)
    key_scope = Scope.QUEUES

    def key_scopes(self, request: Request) -> tuple[str, ...]:
        """Reading takes the status scope too; switching only the queues scope."""
        if request.method in ("GET", "HEAD"):
            return (Scope.QUEUES, Scope.STATUS)
        return (Scope.QUEUES,)


@method_decorator(never_cache, name="dispatch")
class QueueListView(QueueAPIView):
    @extend_schema(
        tags=["queues"],
        operation_id="queues_list",
        summary="The queues, with their hours and status",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="`queues`: a list."),
            **NOT_ALLOWED,
        },
    )
    def get(self, request: Request) -> Response:
        queues = _queues(request).order_by("name").prefetch_related("libraries")
        return Response({"queues": [_payload(queue) for queue in queues]})


@method_decorator(never_cache, name="dispatch")
class QueueDetailView(QueueAPIView):
    @extend_schema(
        tags=["queues"],
        operation_id="queues_retrieve",
        summary="One queue, by id or slug",
        parameters=[QUEUE],
        responses={200: QUEUE_DOC, **NOT_ALLOWED, 404: NOT_YOURS},
    )
    def get(self, request: Request, queue: str) -> Response:
        return Response(_payload(_queue(request, queue)))


SWITCH_RESPONSES = {
    200: QUEUE_DOC,
    401: NOT_ALLOWED[401],
    403: OpenApiResponse(ErrorSerializer, description="No queues scope, or a log-in, not a key."),
    404: NOT_YOURS,
}


class QueueSwitchView(QueueAPIView):
    switch_on = True

    def switch(self, request: Request, queue: str) -> Response:
        if not isinstance(request.auth, LibraryAPIKey):
            raise PermissionDenied(
                "Queues are switched on and off with an API key of the queues scope "
                "(or in the admin)."
            )
        found = _queue(request, queue)
        return Response(_payload(queue_switch(queue=found, is_open=self.switch_on)))


class QueueOpenView(QueueSwitchView):
    @extend_schema(
        tags=["queues"],
        operation_id="queues_open",
        summary="Switch the queue on (it takes requests within its hours)",
        parameters=[QUEUE],
        request=None,
        responses=SWITCH_RESPONSES,
    )
    def post(self, request: Request, queue: str) -> Response:
        return self.switch(request, queue)


class QueueCloseView(QueueSwitchView):
    switch_on = False

    @extend_schema(
        tags=["queues"],
        operation_id="queues_close",
        summary="Switch the queue off",
        parameters=[QUEUE],
        request=None,
        responses=SWITCH_RESPONSES,
    )
    def post(self, request: Request, queue: str) -> Response:
        return self.switch(request, queue)

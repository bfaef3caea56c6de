from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.models import ScheduledJob


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("console")
    return redirect("ask-list")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and the container health check: the database and,
    in service mode, Redis answer. Any failure is a 503."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "down"
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "down"
    healthy = all(value == "ok" for value in checks.values())
    # Whether a worker ran the schedule lately: said, for monitoring, but not
    # counted against this process (a load balancer must keep serving chats).
    if checks["database"] == "ok":
        checks["worker"] = _worker_state()
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )


WORKER_LATE_SECONDS = 60


def _worker_state() -> str:
    try:
        last = ScheduledJob.objects.aggregate(last=Max("last_started_at"))["last"]
    except Exception:
        return "unknown"
    if last is None:
        return "not started"
    late = timezone.now() - last > timedelta(seconds=WORKER_LATE_SECONDS)
    return "late" if late else "ok"

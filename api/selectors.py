"""Reads that only the REST API needs. Everything else comes from ``queues.selectors``."""

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from chat.models import ChatSession
from queues.models import Membership, Queue
from queues.selectors import open_queues


def _count(rows: QuerySet[Any]) -> Coalesce:
    """A correlated COUNT(*) of ``rows`` (already filtered on ``queue=OuterRef('pk')``)."""
    counted = rows.order_by().values("queue").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def queue_status() -> QuerySet[Queue]:
    """Open queues with how many librarians monitor each now and how many sessions wait.

    The counts are correlated subqueries of the one query for the queues
    (their libraries come in a second); nothing about any person is read.
    """
    monitors = Membership.objects.monitoring().filter(queue=OuterRef("pk"))
    waiting = ChatSession.objects.filter(queue=OuterRef("pk"), state=ChatSession.State.WAITING)
    return (
        open_queues()
        .annotate(librarians_online=_count(monitors), waiting=_count(waiting))
        .order_by("name")
    )

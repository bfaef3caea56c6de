"""Reads about IM sessions: only the two librarians of one ever see it."""

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Librarian
from core.errors import ChatError
from im.models import ImSession
from im.payloads import im_line_payload, im_payload


def ims_of(librarian: Librarian) -> QuerySet[ImSession]:
    return ImSession.objects.filter(Q(initiator=librarian) | Q(recipient=librarian)).select_related(
        "initiator", "recipient", "ended_by", "about_session"
    )


def im_for(*, im_id: object, librarian: Librarian) -> ImSession:
    """An IM session the librarian takes part in; ``not_found`` otherwise."""
    try:
        return ims_of(librarian).get(pk=int(im_id))  # type: ignore[call-overload]
    except (ImSession.DoesNotExist, TypeError, ValueError):
        raise ChatError("not_found", "There is no such IM session of yours.") from None


def open_ims_snapshot(librarian: Librarian) -> list[dict[str, Any]]:
    """My Active IM Sessions with their lines, for the console snapshot."""
    ims = (
        ims_of(librarian)
        .filter(ended_at__isnull=True)
        .prefetch_related("messages")
        .order_by("created_at")
    )
    return [
        {**im_payload(im, viewer_id=librarian.pk, messages=False),
         "messages": [im_line_payload(m) for m in im.messages.all()]}
        for im in ims
    ]  # fmt: skip


def open_ims_by_librarian(librarian_ids: set[int]) -> dict[int, dict[str, int]]:
    """For each of these librarians, their open IM sessions' latest numbers
    (by IM id, as a string: a console digest's keys), in one query."""
    ims: dict[int, dict[str, int]] = {pk: {} for pk in librarian_ids}
    for initiator_id, recipient_id, pk, last_seq in ImSession.objects.filter(
        Q(initiator_id__in=librarian_ids) | Q(recipient_id__in=librarian_ids), ended_at__isnull=True
    ).values_list("initiator_id", "recipient_id", "pk", "last_seq"):
        for librarian_id in {initiator_id, recipient_id} & librarian_ids:
            ims[librarian_id][str(pk)] = last_seq
    return ims

"""Reads of wrap-ups: what a librarian has left to wrap up, and a library's lists."""

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.models import Librarian
from chat.models import ChatSession, Hold
from wrapup.models import ResolutionCode, SubjectTag, Wrapup


def _done(librarian: Librarian) -> Exists:
    return Exists(
        Wrapup.objects.filter(session=OuterRef("pk"), librarian=librarian, state=Wrapup.State.DONE)
    )


def wrapups_due(*, librarian: Librarian) -> QuerySet[ChatSession]:
    """The sessions the librarian held and has not wrapped up (skipped ones
    included), the latest hold's end first, each with ``hold_ended_at``."""
    held = Hold.objects.filter(librarian=librarian, session=OuterRef("pk"))
    return (
        ChatSession.objects.filter(Exists(held))
        .exclude(_done(librarian))
        .exclude(state=ChatSession.State.ACTIVE, primary=librarian)
        .annotate(hold_ended_at=Subquery(held.order_by("-ended_at").values("ended_at")[:1]))
        .select_related("queue", "library")
        .order_by("-hold_ended_at", "-pk")
    )


def wrapups_due_count(*, librarian: Librarian) -> int:
    return wrapups_due(librarian=librarian).count()


def codes_for(librarian: Librarian) -> QuerySet[ResolutionCode]:
    """The resolution codes the librarian's wrap-up form offers."""
    return ResolutionCode.objects.filter(library_id=librarian.library_id, active=True)


def tags_for(librarian: Librarian) -> QuerySet[SubjectTag]:
    """The subject tags the librarian's wrap-up form offers."""
    return SubjectTag.objects.filter(library_id=librarian.library_id, active=True)


def wrapup_of(*, session: ChatSession, librarian: Librarian) -> Wrapup | None:
    return (
        Wrapup.objects.select_related("resolution")
        .prefetch_related("tags")
        .filter(session=session, librarian=librarian)
        .first()
    )

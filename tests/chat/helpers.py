"""What the chat tests share: the transfer tests' moves, and the patron presence tests' tabs.

Transfers (tests/chat/test_transfer_*.py): moves by name (:func:`offer`,
:func:`accept`), what a refused move must leave as it was (:func:`state_of`),
the invariants that hold after every test (:func:`assert_invariants`), and
what may have happened to an offer before someone clicks OK, Decline or
Cancel (``offer_expired`` and the rest).

Patron presence (tests/chat/test_patron_presence.py, test_patron_lost.py):
a tab opened or closed by its channel name (:func:`opened`, :func:`closed`),
what the librarian hears of it (:func:`left`, :func:`returned`), and the
closing line of a chat lost with the patron's connection (``LOST``).
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count

from accounts.models import Librarian
from chat import patrons, sessions, transfers
from chat.models import ChatSession, Message, TransferOffer
from im import services as ims
from im.models import ImSession
from tests.helpers import fresh, lines_of
from tests.talk import patron_connected

# --- Transfers: moves, and what a refused one leaves as it was ------------------------

NOTE = "Wants 1900s census records; Bob knows the genealogy databases."


def assert_invariants() -> None:
    """Every active session has exactly one primary, a waiting one none; an open offer
    is one of its kind for its session, and comes from the librarian holding it."""
    for session in ChatSession.objects.all():
        if session.state == ChatSession.State.ACTIVE:
            assert session.primary_id is not None, f"active session {session.pk} has no primary"
        if session.state == ChatSession.State.WAITING:
            assert session.primary_id is None, f"waiting session {session.pk} has a primary"
    open_offers = TransferOffer.objects.filter(state=TransferOffer.State.OPEN)
    assert not open_offers.values("session").annotate(n=Count("pk")).filter(n__gt=1).exists()
    for offer in open_offers.select_related("session"):
        assert offer.session.state == ChatSession.State.ACTIVE, f"open offer {offer.pk}"
        assert offer.session.primary_id == offer.sender_id, f"open offer {offer.pk}"


def offer(
    session: ChatSession, sender: Librarian, receiver: Librarian, note: str = NOTE
) -> TransferOffer:
    return transfers.transfer_offer(
        session_id=session.pk, sender=sender, receiver_id=receiver.pk, note=note
    )


def accept(made: TransferOffer, librarian: Librarian) -> ChatSession:
    return transfers.transfer_accept(offer_id=made.pk, librarian=librarian)


def group(librarian: Librarian) -> str:
    return f"librarian.{librarian.pk}"


def types(heard: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in heard]


def of_type(heard: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [e for e in heard if e["type"] == type_]


def state_of(session: ChatSession) -> tuple[Any, ...]:
    """What a refused move must leave as it was: who holds it, every line, every offer."""
    session = fresh(session)
    return (
        session.state,
        session.primary_id,
        lines_of(session),
        list(session.offers.order_by("pk").values_list("pk", "state")),
        list(ImSession.objects.order_by("pk").values_list("pk", "about_session_id")),
    )


def notes_of(session: ChatSession) -> list[str]:
    return list(session.messages.filter(kind=Message.Kind.NOTE).values_list("text", flat=True))


def say_im(im: ImSession, who: Librarian, text: str) -> None:
    ims.im_post(im_id=im.pk, librarian=who, text=text, client_id=None)


# --- What happened before the click ---------------------------------------------------
# Each takes ``{"clock", "offer", "alice", "bob", "session"}``.


def offer_expired(ctx: dict[str, Any]) -> None:
    ctx["clock"].advance(61)


def offer_expired_and_swept(ctx: dict[str, Any]) -> None:
    ctx["clock"].advance(61)
    assert transfers.transfer_expire_due() == [ctx["offer"].pk]


def offer_cancelled(ctx: dict[str, Any]) -> None:
    transfers.transfer_cancel(offer_id=ctx["offer"].pk, librarian=ctx["alice"])


def offer_declined(ctx: dict[str, Any]) -> None:
    transfers.transfer_decline(offer_id=ctx["offer"].pk, librarian=ctx["bob"])


def session_ended_by_patron(ctx: dict[str, Any]) -> None:
    sessions.session_end_by_patron(session=ctx["session"])


def offer_accepted(ctx: dict[str, Any]) -> None:
    accept(ctx["offer"], ctx["bob"])


def nothing_happened(ctx: dict[str, Any]) -> None:
    pass


# --- Patron presence: tabs, and what the librarian hears -------------------------------

LOST = sessions.CONNECTION_LOST
TEN_MINUTES = timedelta(minutes=10)


def gone_since(session: ChatSession) -> datetime:
    """Since when the patron is away (the session says they are)."""
    since = fresh(session).patron_gone_since
    assert since is not None
    return since


def opened(session: ChatSession, tab: str) -> None:
    patron_connected(session, tab)


def closed(session: ChatSession, tab: str) -> None:
    patrons.session_patron_disconnected(session=session, channel_name=tab)


def left(session: ChatSession, grace_until: Any) -> dict[str, Any]:
    return {"type": "patron.left", "session": session.pk, "grace_until": grace_until.isoformat()}


def returned(session: ChatSession) -> dict[str, Any]:
    return {"type": "patron.returned", "session": session.pk}


def closing_lines(session: ChatSession) -> list[str]:
    return list(session.messages.filter(text=LOST).values_list("text", flat=True))

"""Writes of lines: every line of a chat session is stored here.

Who may say a line in which state of the session is decided in
:mod:`queues.services` and here; the sequence number is assigned here only.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import Librarian
from queues.models import ChatSession
from reference_chat.errors import ChatError
from reference_chat.events import publish
from transcripts.models import Message
from transcripts.payloads import message_payload, patron_message_payload

PATRON_VISIBLE_KINDS = {Message.Kind.PATRON, Message.Kind.LIBRARIAN, Message.Kind.SYSTEM}


def line_validate(text: object) -> str:
    """Return the line as it will be stored, or raise ``invalid_line``.

    Trailing white space is dropped; a line with nothing but white space is empty.
    """
    if not isinstance(text, str):
        raise ChatError("invalid_line", "A message must be text.")
    text = text.rstrip()
    if not text.strip():
        raise ChatError("invalid_line", "A message can't be empty.")
    limit = settings.CHAT_MAX_LINE_CHARS
    if len(text) > limit:
        raise ChatError(
            "invalid_line",
            f"A message can be at most {limit:,} characters; this one has {len(text):,}.",
        )
    return text


def line_store(
    *,
    session: ChatSession,
    kind: str,
    text: str,
    author: Librarian | None = None,
    author_name: str = "",
    client_id: str | None = None,
    states: tuple[str, ...] | None = None,
    primary: Librarian | None = None,
) -> tuple[Message, bool]:
    """Store one line with the session's next sequence number.

    Requires: the caller decided the speaker may say it. ``states``, when
    given, are the session states the line may be said in, and ``primary``
    the librarian who must hold the session; the checks and the sequence
    number are one conditional UPDATE, so a line can't slip in after the
    session closed or changed hands.
    Changes: ``session.last_seq`` and a new Message. A retry with a
    ``client_id`` already stored returns the stored line and ``False``.
    Publishes: ``message.created`` to the staff in the session and, for a
    patron-visible line, to the patron.
    """
    if client_id:
        existing = Message.objects.filter(session=session, client_id=client_id).first()
        if existing:
            return existing, False
    visibility = (
        Message.Visibility.PATRON if kind in PATRON_VISIBLE_KINDS else Message.Visibility.STAFF
    )
    try:
        with transaction.atomic():
            rows = ChatSession.objects.filter(pk=session.pk)
            if states is not None:
                rows = rows.filter(state__in=states)
            if primary is not None:
                rows = rows.filter(primary=primary)
            # Taking the row lock here orders concurrent lines of one session.
            counters = {"last_seq": F("last_seq") + 1}
            if visibility == Message.Visibility.PATRON:
                counters["last_patron_seq"] = F("last_patron_seq") + 1
            if not rows.update(**counters):
                raise _refusal(session.pk, primary)
            current = ChatSession.objects.values("last_seq", "last_patron_seq", "primary_id").get(
                pk=session.pk
            )
            message = Message.objects.create(
                session=session,
                seq=current["last_seq"],
                patron_seq=(
                    current["last_patron_seq"] if visibility == Message.Visibility.PATRON else None
                ),
                kind=kind,
                visibility=visibility,
                author=author,
                author_name=author_name,
                text=text,
                client_id=client_id or None,
            )
            if current["primary_id"]:
                publish(
                    {"type": "message.created", "session": session.pk,
                     "message": message_payload(message)},
                    f"librarian.{current['primary_id']}",
                )  # fmt: skip
            if visibility == Message.Visibility.PATRON:
                # The patron's own event, built from the patron's payload only.
                publish(
                    {"type": "message.created", "message": patron_message_payload(message)},
                    session.patron_group(),
                )
    except IntegrityError:
        # Two sends of the same client id at once: the other one stored it.
        if client_id:
            existing = Message.objects.filter(session=session, client_id=client_id).first()
            if existing:
                return existing, False
        raise
    session.last_seq = message.seq
    return message, True


def _refusal(session_id: int, primary: Librarian | None) -> ChatError:
    """Say why a conditional line insert matched no row."""
    state, primary_id = ChatSession.objects.values_list("state", "primary_id").get(pk=session_id)
    if state == ChatSession.State.CLOSED:
        return ChatError("session_closed", "This chat session has ended.")
    # Before the primary check: a waiting session has no primary at all, and
    # "nobody picked it up yet" is what the librarian needs to hear.
    if state == ChatSession.State.WAITING:
        return ChatError("session_waiting", "No librarian has picked up this session yet.")
    if primary is not None and primary_id != primary.pk:
        return ChatError(
            "not_primary", "Only the librarian chatting with this patron can write here."
        )
    return ChatError("session_waiting", "No librarian has picked up this session yet.")


def message_post_by_patron(
    *, session: ChatSession, text: object, client_id: str | None
) -> tuple[Message, bool]:
    """A patron says a line, while waiting or chatting.

    Publishes ``message.created`` (see :func:`line_store`).
    """
    return line_store(
        session=session,
        kind=Message.Kind.PATRON,
        text=line_validate(text),
        author_name=session.patron_name,
        client_id=client_id,
        states=(ChatSession.State.WAITING, ChatSession.State.ACTIVE),
    )


def message_post_by_librarian(
    *,
    session: ChatSession,
    librarian: Librarian,
    text: object,
    client_id: str | None,
    note: bool = False,
) -> tuple[Message, bool]:
    """The primary librarian of an active session says a line to the patron,
    or with ``note`` writes a Librarian Note that only librarians see.

    Publishes ``message.created`` (see :func:`line_store`).
    """
    return line_store(
        session=session,
        kind=Message.Kind.NOTE if note else Message.Kind.LIBRARIAN,
        text=line_validate(text),
        author=librarian,
        author_name=librarian.display_name,
        client_id=client_id,
        states=(ChatSession.State.ACTIVE,),
        primary=librarian,
    )

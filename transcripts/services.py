"""Writes of lines: every line of a chat session is stored here.

Who may say a line in which state of the session is decided in
:mod:`queues.services` and here; the sequence number is assigned here only.
"""

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from accounts.models import Librarian
from queues.models import ChatSession, Membership
from queues.selectors import session_for_librarian
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
    message, created = _line_insert(
        session_id=session.pk,
        session=session,
        kind=kind,
        text=text,
        author=author,
        author_name=author_name,
        client_id=client_id,
        states=states,
        primary=primary,
    )
    if created:
        session.last_seq = message.seq
    return message, created


def _line_insert(
    *,
    session_id: int,
    session: ChatSession | None,
    kind: str,
    text: str,
    author: Librarian | None,
    author_name: str,
    client_id: str | None,
    states: tuple[str, ...] | None,
    primary: Librarian | None,
    reader: Librarian | None = None,
) -> tuple[Message, bool]:
    """:func:`line_store` by session id; ``reader``, when given, must belong to its queue.

    Two statements in one transaction on the common path: the conditional
    UPDATE that takes the next numbers, and the INSERT. A retry is not looked
    for first: the unique (session, client_id) constraint finds it, and its
    IntegrityError rolls the whole transaction back, number included.
    """
    visibility = (
        Message.Visibility.PATRON if kind in PATRON_VISIBLE_KINDS else Message.Visibility.STAFF
    )
    patron_visible = visibility == Message.Visibility.PATRON
    try:
        with transaction.atomic():
            # Taking the row lock here orders concurrent lines of one session.
            counters = _seq_take(
                session_id,
                patron_visible=patron_visible,
                states=states,
                primary=primary,
                reader=reader,
            )
            if counters is not None:
                last_seq, last_patron_seq, primary_id = counters
                message = Message.objects.create(
                    **({"session": session} if session else {"session_id": session_id}),
                    seq=last_seq,
                    patron_seq=last_patron_seq if patron_visible else None,
                    kind=kind,
                    visibility=visibility,
                    author=author,
                    author_name=author_name,
                    text=text,
                    client_id=client_id or None,
                )
                if primary_id:
                    publish(
                        {"type": "message.created", "session": session_id,
                         "message": message_payload(message)},
                        f"librarian.{primary_id}",
                    )  # fmt: skip
                if patron_visible:
                    # The patron's own event, built from the patron's payload only.
                    publish(
                        {"type": "message.created", "message": patron_message_payload(message)},
                        # An unsaved stand-in by id only names the group.
                        (session or ChatSession(pk=session_id)).patron_group(),
                    )
    except IntegrityError:
        # A retry, or two sends of the same client id at once: the line is stored.
        if client_id and (stored := _stored_line(session_id, client_id)):
            return stored, False
        raise
    if counters is None:
        # The same order of answers as checking first: a session the reader
        # can't see is not found, a line stored before is acknowledged (the
        # session may have ended since), and only then is the line refused.
        if reader is not None:
            session_for_librarian(session_id=session_id, librarian=reader)
        if client_id and (stored := _stored_line(session_id, client_id)):
            return stored, False
        raise _refusal(session_id, primary)
    return message, True


def _seq_take(
    session_id: int,
    *,
    patron_visible: bool,
    states: tuple[str, ...] | None,
    primary: Librarian | None,
    reader: Librarian | None,
) -> tuple[int, int, int | None] | None:
    """Take the session's next numbers if it may take the line: ``(last_seq,
    last_patron_seq, primary_id)`` after the increment, or None if no row matched.

    Raw SQL because the ORM's ``update()`` returns only a row count, and
    reading the numbers back is one more round trip per line; ``UPDATE …
    RETURNING`` (PostgreSQL, SQLite 3.35+) does both at once. The names come
    from the models, so a renamed field or table can't leave this behind.
    """
    qn = connection.ops.quote_name
    meta = ChatSession._meta
    table = qn(meta.db_table)

    def column(name: str) -> str:
        return qn(meta.get_field(name).column)

    last_seq, last_patron_seq, primary_id = (
        column("last_seq"),
        column("last_patron_seq"),
        column("primary"),
    )
    assignments = [f"{last_seq} = {last_seq} + 1"]
    if patron_visible:
        assignments.append(f"{last_patron_seq} = {last_patron_seq} + 1")
    conditions = [f"{qn(meta.pk.column)} = %s"]
    params: list[object] = [session_id]
    if states is not None:
        conditions.append(f"{column('state')} IN ({', '.join(['%s'] * len(states))})")
        params.extend(states)
    if primary is not None:
        conditions.append(f"{primary_id} = %s")
        params.append(primary.pk)
    if reader is not None:
        # What session_for_librarian checks: the reader belongs to the session's queue.
        member = Membership._meta
        members = qn(member.db_table)
        conditions.append(
            f"EXISTS (SELECT 1 FROM {members}"  # noqa: S608 - names from _meta
            f" WHERE {members}.{qn(member.get_field('librarian').column)} = %s"
            f" AND {members}.{qn(member.get_field('queue').column)} = {table}.{column('queue')})"
        )
        params.append(reader.pk)
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)}"  # noqa: S608
        f" RETURNING {last_seq}, {last_patron_seq}, {primary_id}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # fetchall: SQLite finishes a RETURNING statement only once every row is read.
        rows = cursor.fetchall()
    return rows[0] if rows else None


def _stored_line(session_id: int, client_id: str) -> Message | None:
    return Message.objects.filter(session_id=session_id, client_id=client_id).first()


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


def message_post_by_librarian_in(
    *,
    session_id: object,
    librarian: Librarian,
    text: object,
    client_id: str | None,
    note: bool = False,
) -> tuple[Message, bool]:
    """:func:`message_post_by_librarian` for a session known only by its id.

    Requires: the librarian belongs to the session's queue (``not_found``
    otherwise, as from ``session_for_librarian``), holds it, and it is
    active. That check is part of the line's conditional UPDATE, so the
    common path reads nothing before it: one UPDATE and one INSERT.
    Publishes ``message.created`` (see :func:`line_store`).
    """
    try:
        line = line_validate(text)
    except ChatError:
        # A session the librarian can't see is not found, whatever the line.
        session_for_librarian(session_id=session_id, librarian=librarian)
        raise
    try:
        pk = int(session_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        pk = 0
    if not 0 < pk < 2**63:
        # No row has such an id (and SQLite can't take it as a parameter).
        session_for_librarian(session_id=session_id, librarian=librarian)
        raise ChatError("not_found", "There is no such chat session in your queues.")
    return _line_insert(
        session_id=pk,
        session=None,
        kind=Message.Kind.NOTE if note else Message.Kind.LIBRARIAN,
        text=line,
        author=librarian,
        author_name=librarian.display_name,
        client_id=client_id,
        states=(ChatSession.State.ACTIVE,),
        primary=librarian,
        reader=librarian,
    )

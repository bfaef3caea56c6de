"""Writes of lines: every line of a chat session is stored here.

Who may say a line in which state of the session is decided in
:mod:`queues.services` and here; the sequence number is assigned here only.
"""

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Librarian
from queues.models import ChatSession, Membership
from queues.selectors import session_for_librarian
from reference_chat.errors import ChatError
from reference_chat.events import publish
from transcripts.models import Message
from transcripts.payloads import message_payload, patron_message_payload

logger = logging.getLogger(__name__)

PATRON_VISIBLE_KINDS = {Message.Kind.PATRON, Message.Kind.LIBRARIAN, Message.Kind.SYSTEM}


@dataclass(slots=True)
class LineWrite:
    """A line a socket asks to store, checked as far as can be without the
    database: what :func:`line_write` and :func:`lines_write_together` store."""

    session_id: int
    session: ChatSession | None
    kind: str
    text: str
    author: Librarian | None = None
    author_name: str = ""
    client_id: str | None = None
    states: tuple[str, ...] | None = None
    primary: Librarian | None = None
    reader: Librarian | None = None

    @property
    def visibility(self) -> str:
        if self.kind in PATRON_VISIBLE_KINDS:
            return Message.Visibility.PATRON
        return Message.Visibility.STAFF


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
    return line_write(
        LineWrite(
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
    )


def line_write(write: LineWrite) -> tuple[Message, bool]:
    """Store one line (see :func:`line_store`); a retry returns the stored line
    and False. ``write.reader``, when given, must belong to the session's queue.

    On PostgreSQL one statement (:func:`_line_insert_one`); elsewhere two in
    one transaction: the conditional UPDATE that takes the next numbers, and
    the INSERT. A retry is not looked for first: the unique (session,
    client_id) constraint finds it, and its IntegrityError undoes the whole
    write, number included.
    """
    if connection.vendor == "postgresql":
        return _line_insert_one(write)
    session_id, session, client_id = write.session_id, write.session, write.client_id
    patron_visible = write.visibility == Message.Visibility.PATRON
    try:
        with transaction.atomic():
            # Taking the row lock here orders concurrent lines of one session.
            counters = _seq_take(write)
            if counters is not None:
                last_seq, last_patron_seq, primary_id = counters
                if session is not None:
                    session.last_seq = last_seq
                message = Message.objects.create(
                    **({"session": session} if session else {"session_id": session_id}),
                    seq=last_seq,
                    patron_seq=last_patron_seq if patron_visible else None,
                    kind=write.kind,
                    visibility=write.visibility,
                    author=write.author,
                    author_name=write.author_name,
                    text=write.text,
                    client_id=client_id or None,
                )
                for event, groups in line_events(message, write, primary_id=primary_id):
                    publish(event, *groups)
    except IntegrityError:
        # A retry, or two sends of the same client id at once: the line is stored.
        if client_id and (stored := _stored_line(session_id, client_id)):
            return stored, False
        raise
    if counters is None:
        return _not_taken(write), False
    return message, True


def _not_taken(write: LineWrite) -> Message:
    """A conditional line insert matched no row: the line stored before with
    this client id, or the refusal raised. In the same order of answers as
    checking first: a session the reader can't see is not found, a line
    stored before is acknowledged (the session may have ended since), and
    only then is the line refused."""
    if write.reader is not None:
        session_for_librarian(session_id=write.session_id, librarian=write.reader)
    if write.client_id and (stored := _stored_line(write.session_id, write.client_id)):
        return stored
    raise _refusal(write.session_id, write.primary)


def _line_insert_one(write: LineWrite) -> tuple[Message, bool]:
    """:func:`line_write` on PostgreSQL: the UPDATE that takes the numbers and
    the INSERT are one statement, so a line outside a transaction is one round
    trip and its own commit (four before: BEGIN, UPDATE, INSERT, COMMIT; the
    benchmark's profiles showed the database thread waiting on them,
    docs/performance.md). A statement is atomic: a retry's unique violation
    or a session that may not take the line leaves nothing changed."""
    created_at = timezone.now()
    sql, params = line_statement(write, created_at)
    client_id = write.client_id
    # A retry inside a caller's transaction must not abort it: a savepoint
    # there (a line without a client id can't be a retry).
    guard = transaction.atomic() if client_id and connection.in_atomic_block else nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    except IntegrityError:
        if client_id and (stored := _stored_line(write.session_id, client_id)):
            return stored, False
        raise
    if row is None:
        return _not_taken(write), False
    return _line_stored(write, row, created_at), True


def line_statement(write: LineWrite, created_at: Any) -> tuple[str, list[object]]:
    """The one statement (PostgreSQL) that stores ``write``, and its parameters."""
    sql = _line_insert_sql(*_take_shape(write), bool(write.client_id))
    params = _take_params(write)
    if write.client_id:
        params += [write.session_id, write.client_id]
    params += [
        write.kind,
        write.visibility,
        write.author.pk if write.author else None,
        write.author_name,
        write.text,
        created_at,
        write.client_id or None,
    ]
    return sql, params


def _line_stored(write: LineWrite, row: tuple[Any, ...], created_at: Any) -> Message:
    """The Message a line statement stored (its returned row), its events published."""
    message = line_message(write, row, created_at)
    for event, groups in line_events(message, write, primary_id=row[3]):
        publish(event, *groups)
    return message


def line_message(write: LineWrite, row: tuple[Any, ...], created_at: Any) -> Message:
    """The Message a line statement (:func:`line_statement`) stored, from its
    returned row; touches no database."""
    pk, seq, patron_seq, _ = row
    session = write.session
    message = Message(
        pk=pk,
        **({"session": session} if session else {"session_id": write.session_id}),
        seq=seq,
        patron_seq=patron_seq,
        kind=write.kind,
        visibility=write.visibility,
        author=write.author,
        author_name=write.author_name,
        text=write.text,
        created_at=created_at,
        client_id=write.client_id or None,
    )
    message._state.adding = False
    message._state.db = DEFAULT_DB_ALIAS
    if write.session is not None:
        write.session.last_seq = seq
    return message


def line_events(
    message: Message, write: LineWrite, *, primary_id: int | None
) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
    """What a stored line tells whom: ``message.created`` to the librarian
    holding the session and, for a patron-visible line, the patron's own
    event to the patron."""
    events: list[tuple[dict[str, Any], tuple[str, ...]]] = []
    if primary_id:
        events.append(
            (
                {
                    "type": "message.created",
                    "session": write.session_id,
                    "message": message_payload(message),
                },
                (f"librarian.{primary_id}",),
            )
        )
    if message.visibility == Message.Visibility.PATRON:
        # The patron's own event, built from the patron's payload only; an
        # unsaved stand-in by id only names the group.
        group = (write.session or ChatSession(pk=write.session_id)).patron_group()
        events.append(
            ({"type": "message.created", "message": patron_message_payload(message)}, (group,))
        )
    return events


@cache
def _line_insert_sql(
    patron_visible: bool, states: int, primary: bool, reader: bool, retry_check: bool
) -> str:
    """The one statement of :func:`_line_insert_one` for a shape of line: the
    conditional UPDATE of :func:`_seq_take` as a CTE feeding the INSERT.
    Parameters: session id, the states, primary, reader; with ``retry_check``
    the session id and client id again; then the line's kind, visibility,
    author, author name, text, created_at, client id.

    With ``retry_check`` a line stored before with the same client id takes
    no number and matches no row, like a session that may not take the line:
    a retry is no error, so PostgreSQL logs no failed statement, whose text
    would carry the line (only two sends of one id at the same moment still
    meet the unique constraint).
    """
    qn = connection.ops.quote_name
    take = _seq_take_sql(patron_visible, states, primary, reader)
    meta = Message._meta
    if retry_check:
        table = qn(meta.db_table)
        take += (
            f" AND NOT EXISTS (SELECT 1 FROM {table}"  # noqa: S608 - names from _meta
            f" WHERE {table}.{qn(meta.get_field('session').column)} = %s"
            f" AND {table}.{qn(meta.get_field('client_id').column)} = %s)"
        )
    columns = [
        qn(meta.get_field(name).column)
        for name in ("session", "seq", "patron_seq", "kind", "visibility", "author",
                     "author_name", "text", "created_at", "client_id")
    ]  # fmt: skip
    session_meta = ChatSession._meta
    pk, last_seq, last_patron_seq, primary_id = (
        qn(session_meta.pk.column),
        qn(session_meta.get_field("last_seq").column),
        qn(session_meta.get_field("last_patron_seq").column),
        qn(session_meta.get_field("primary").column),
    )
    patron_seq = last_patron_seq if patron_visible else "NULL"
    # Typed: in a pipeline the parameters are bound by the server, which
    # can't tell an untyped NULL author from text.
    values = ", ".join(
        f"CAST(%s AS {meta.get_field(name).db_type(connection)})"
        for name in ("kind", "visibility", "author", "author_name", "text", "created_at",
                     "client_id")
    )  # fmt: skip
    return (
        f"WITH taken AS ({take} RETURNING {pk}, {last_seq}, {last_patron_seq}, {primary_id}),"  # noqa: S608
        f" stored AS (INSERT INTO {qn(meta.db_table)} ({', '.join(columns)})"
        f" SELECT {pk}, {last_seq}, {patron_seq}, {values} FROM taken"
        f" RETURNING {qn(meta.pk.column)}, {columns[1]}, {columns[2]})"
        f" SELECT stored.*, taken.{primary_id} FROM stored, taken"
    )


def _seq_take(write: LineWrite) -> tuple[int, int, int | None] | None:
    """Take the session's next numbers if it may take the line: ``(last_seq,
    last_patron_seq, primary_id)`` after the increment, or None if no row matched.

    Raw SQL because the ORM's ``update()`` returns only a row count, and
    reading the numbers back is one more round trip per line; ``UPDATE …
    RETURNING`` (PostgreSQL, SQLite 3.35+) does both at once.
    """
    qn = connection.ops.quote_name
    meta = ChatSession._meta
    returning = ", ".join(
        qn(meta.get_field(name).column) for name in ("last_seq", "last_patron_seq", "primary")
    )
    sql = _seq_take_sql(*_take_shape(write))
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {returning}", _take_params(write))
        # fetchall: SQLite finishes a RETURNING statement only once every row is read.
        rows = cursor.fetchall()
    return rows[0] if rows else None


def _take_shape(write: LineWrite) -> tuple[bool, int, bool, bool]:
    """The shape of :func:`_seq_take_sql` that ``write`` needs."""
    return (
        write.visibility == Message.Visibility.PATRON,
        len(write.states) if write.states is not None else -1,
        write.primary is not None,
        write.reader is not None,
    )


def _take_params(write: LineWrite) -> list[object]:
    """The parameters of :func:`_seq_take_sql` for ``write``."""
    params: list[object] = [write.session_id, *(write.states or ())]
    if write.primary is not None:
        params.append(write.primary.pk)
    if write.reader is not None:
        params.append(write.reader.pk)
    return params


@cache
def _seq_take_sql(patron_visible: bool, states: int, primary: bool, reader: bool) -> str:
    """The conditional UPDATE that takes a session's next numbers, for a shape
    of line (``states``: how many states it may be said in, -1 for any).
    Parameters: the session id, the states, the primary's id, the reader's id.
    The names come from the models, so a renamed field or table can't leave
    this behind.
    """
    qn = connection.ops.quote_name
    meta = ChatSession._meta
    table = qn(meta.db_table)

    def column(name: str) -> str:
        return qn(meta.get_field(name).column)

    last_seq, last_patron_seq = column("last_seq"), column("last_patron_seq")
    assignments = [f"{last_seq} = {last_seq} + 1"]
    if patron_visible:
        assignments.append(f"{last_patron_seq} = {last_patron_seq} + 1")
    conditions = [f"{qn(meta.pk.column)} = %s"]
    if states >= 0:
        conditions.append(f"{column('state')} IN ({', '.join(['%s'] * states)})")
    if primary:
        conditions.append(f"{column('primary')} = %s")
    if reader:
        # What session_for_librarian checks: the reader belongs to the session's queue.
        member = Membership._meta
        members = qn(member.db_table)
        conditions.append(
            f"EXISTS (SELECT 1 FROM {members}"  # noqa: S608 - names from _meta
            f" WHERE {members}.{qn(member.get_field('librarian').column)} = %s"
            f" AND {members}.{qn(member.get_field('queue').column)} = {table}.{column('queue')})"
        )
    return f"UPDATE {table} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)}"  # noqa: S608


def lines_write_together(builds: Sequence[Callable[[], LineWrite]]) -> list[Any]:
    """Store the lines several sockets sent at once; for each, what
    :func:`line_write` returns, or the exception building or storing it raised.

    ``builds`` make each line (``patron_line``, ``librarian_line_in``), raising
    ``ChatError`` for a line that is refused before the database is asked.
    On PostgreSQL two or more lines go in one transaction whose statements
    are sent together (psycopg's pipeline mode): one round trip, one commit
    and one disk flush for the batch. The database thread takes the GIL
    back once per batch instead of once per statement, which under load
    cost a line up to the interpreter's switch interval each time
    (docs/performance.md). A retry among them (its unique violation aborts
    the transaction) or any database error rolls the batch back, numbers
    and events included, and each line is stored on its own. A line the
    session may not take is answered on its own too, after the batch.
    Publishes what each line publishes, once the batch commits.
    """
    outcomes: list[Any] = [None] * len(builds)
    writes: list[tuple[int, LineWrite]] = []
    for index, build in enumerate(builds):
        try:
            writes.append((index, build()))
        except Exception as refused:  # the line's own answer
            outcomes[index] = refused
    if len(writes) > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        try:
            stored = _lines_insert_pipelined([write for _, write in writes])
        except Exception:
            logger.info("a batch of %d lines is stored line by line", len(writes))
        else:
            for (index, _), message in zip(writes, stored, strict=True):
                if message is not None:
                    outcomes[index] = (message, True)
            writes = [item for item, message in zip(writes, stored, strict=True) if not message]
    for index, write in writes:
        try:
            outcomes[index] = line_write(write)
        except Exception as error:  # the line's own answer
            outcomes[index] = error
    return outcomes


def _lines_insert_pipelined(writes: list[LineWrite]) -> list[Message | None]:
    """Store ``writes`` in one transaction, their statements pipelined; for
    each the stored Message, or None if its session may not take it."""
    import psycopg  # PostgreSQL only

    created_at = timezone.now()
    with transaction.atomic():
        connection.ensure_connection()
        pg = connection.connection
        cursors = []
        with pg.pipeline():
            for write in writes:
                # A server-binding cursor: Django's client-binding one can't pipeline.
                cursor = psycopg.Cursor(pg)
                cursor.execute(*line_statement(write, created_at))
                cursors.append(cursor)
        stored: list[Message | None] = []
        for write, cursor in zip(writes, cursors, strict=True):
            row = cursor.fetchone()
            cursor.close()
            stored.append(_line_stored(write, row, created_at) if row else None)
    return stored


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
    return line_write(patron_line(session=session, text=text, client_id=client_id))


def patron_line(*, session: ChatSession, text: object, client_id: str | None) -> LineWrite:
    """The line of :func:`message_post_by_patron`, to store (``invalid_line`` if it can't be)."""
    return LineWrite(
        session_id=session.pk,
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
    return line_write(
        librarian_line_in(
            session_id=session_id, librarian=librarian, text=text, client_id=client_id, note=note
        )
    )


def librarian_line_in(
    *,
    session_id: object,
    librarian: Librarian,
    text: object,
    client_id: str | None,
    note: bool = False,
) -> LineWrite:
    """The line of :func:`message_post_by_librarian_in`, to store (``not_found``
    or ``invalid_line`` if it can't be)."""
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
    return LineWrite(
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

"""The line store: every line of a chat session is stored by :func:`line_store`.

A line is described by a :class:`LineWrite`, made by one of the builders
here (:func:`patron_line`, :func:`librarian_line`, :func:`system_line`,
:func:`note_line`; a pushed page's is ``chat.pages.page_line``), which
check what can be checked without the database and touch none. Storing it is one path per database:

- PostgreSQL: one statement (``chat.line_sql.line_statement``), the
  conditional UPDATE that takes the session's next numbers feeding the
  INSERT. :func:`line_store` runs it on the caller's connection, inside the
  caller's transaction if there is one; the socket writer
  (:mod:`chat.writer`) pipelines the same statements on the event loop.
- SQLite: the conditional UPDATE … RETURNING, then the INSERT, in one
  transaction.

Who may say a line in which state of the session is part of the UPDATE's
condition, so a line can't slip in after the session closed or changed
hands; the sequence number is assigned there only.
"""

import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Librarian
from chat.line import LineWrite
from chat.line_sql import line_statement, seq_take, team_ids
from chat.models import ChatSession, Message, Participant
from chat.payloads import message_payload, patron_message_payload
from chat.selectors import session_for_librarian
from core.db import on_postgresql
from core.errors import ChatError
from core.events import Outbox, publish
from core.groups import librarian_group, patron_group
from core.text import text_clean

logger = logging.getLogger(__name__)


def line_validate(text: object) -> str:
    """Return the line as it will be stored, or raise ``invalid_line``.

    Cleaned of what no database here stores (``core.text.text_clean``: NUL and
    the other control characters dropped, a lone surrogate shown as U+FFFD);
    trailing white space is dropped; a line with nothing but white space
    (or nothing left after cleaning) is empty.
    """
    if not isinstance(text, str):
        raise ChatError("invalid_line", gettext_lazy("A message must be text."))
    text = text_clean(text).rstrip()
    if not text.strip():
        raise ChatError("invalid_line", gettext_lazy("A message can't be empty."))
    limit = settings.CHAT_MAX_LINE_CHARS
    if len(text) > limit:
        raise ChatError("invalid_line", _too_long(limit, len(text)))
    return text


def _too_long_text(limit: int, length: int) -> str:
    return _("A message can be at most %(limit)s characters; this one has %(length)s.") % {
        "limit": number_format(limit, force_grouping=True),
        "length": number_format(length, force_grouping=True),
    }


# Lazy: a line is refused on the lines' thread, which serves every socket of
# the process; the patron's socket makes it text in the patron's language.
_too_long = lazy(_too_long_text, str)


# --- The lines people and the system say ------------------------------------


def patron_line(*, session: ChatSession, text: object, client_id: str | None) -> LineWrite:
    """A patron's line, while waiting or chatting (``invalid_line`` if it can't be one)."""
    return LineWrite(
        session_id=session.pk,
        session=session,
        kind=Message.Kind.PATRON,
        text=line_validate(text),
        author_name=session.patron_name,
        client_id=client_id,
        states=(ChatSession.State.WAITING, ChatSession.State.ACTIVE),
    )


def librarian_line(
    *,
    session_id: object,
    librarian: Librarian,
    text: object,
    client_id: str | None,
    note: bool = False,
) -> LineWrite:
    """The primary librarian's line to the patron, or with ``note`` a Librarian
    Note only librarians see, in an active session known by its id; or the
    line of a librarian who joined it (``chat.team``).

    The librarian must belong to the session's queue (``not_found``
    otherwise, as from ``session_for_librarian``), hold it or have joined
    it, and it must be active: all of it is the line's conditional UPDATE,
    so the common path reads nothing first.
    """
    return librarian_write(
        session_id=session_id,
        librarian=librarian,
        kind=Message.Kind.NOTE if note else Message.Kind.LIBRARIAN,
        client_id=client_id,
        checked=lambda: (line_validate(text), ""),
    )


def librarian_write(
    *,
    session_id: object,
    librarian: Librarian,
    kind: str,
    client_id: str | None,
    checked: Callable[[], tuple[str, str]],
) -> LineWrite:
    """A line a librarian says in an active session known by its id, its text
    and address (a pushed page's, else "") from ``checked``, which raises the
    line's refusal. The conditions are :func:`librarian_line`'s, all of them
    the line's conditional UPDATE.
    """
    pk, refused = session_pk(session_id)
    try:
        text, url = checked()
    except ChatError as invalid:
        # A session the librarian can't see is not found, whatever the line.
        text, url, refused = "", "", refused or invalid
    return LineWrite(
        session_id=pk,
        session=None,
        kind=kind,
        text=text,
        url=url,
        author=librarian,
        author_name=librarian.display_name,
        client_id=client_id,
        states=(ChatSession.State.ACTIVE,),
        primary=librarian,
        reader=librarian,
        refused=refused,
    )


def session_pk(session_id: object) -> tuple[int, ChatError | None]:
    """A librarian's line's session id as the line statement takes it, and
    ``not_found`` for one no row can have (SQLite can't even take it as a
    parameter): 0 then, so the statement matches nothing."""
    try:
        pk = int(session_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        pk = 0
    if not 0 < pk < 2**63:
        return 0, ChatError("not_found", "There is no such chat session in your queues.")
    return pk, None


def system_line(session: ChatSession, text: str) -> LineWrite:
    """A line of the system's that both sides see ("Patron ended chat session")."""
    return LineWrite(session_id=session.pk, session=session, kind=Message.Kind.SYSTEM, text=text)


def note_line(
    session: ChatSession,
    text: str,
    author: Librarian | None = None,
    *,
    states: tuple[str, ...] | None = None,
) -> LineWrite:
    """A Librarian Note in the session's Chat History: staff only, by the one visibility rule."""
    return LineWrite(
        session_id=session.pk,
        session=session,
        kind=Message.Kind.NOTE,
        text=text[: settings.CHAT_MAX_LINE_CHARS],
        author=author,
        author_name=author.display_name if author else "",
        states=states,
    )


# --- Storing ----------------------------------------------------------------


def line_store(write: LineWrite) -> tuple[Message, bool]:
    """Store one line with the session's next sequence number.

    Requires: the line's conditions (its states, primary and reader).
    Changes: the session's counters and a new Message. A retry with a
    ``client_id`` already stored returns the stored line and ``False``; a
    line the session may not take raises its refusal (``session_closed``,
    ``not_primary`` …). Inside a caller's transaction the line is part of it.
    Publishes ``message.created`` (:func:`line_events`).
    """
    if write.refused is not None:
        if write.reader is not None and write.session_id:
            session_for_librarian(session_id=write.session_id, librarian=write.reader)
        raise write.refused
    if on_postgresql():
        return _store_in_one_statement(write)
    return _store_in_two_statements(write)


def _store_in_one_statement(write: LineWrite) -> tuple[Message, bool]:
    """PostgreSQL: one round trip and, outside a transaction, its own commit.

    A statement is atomic: a session that may not take the line, or a retry
    (found by the statement's ``NOT EXISTS``, so nothing fails and
    PostgreSQL logs no statement with the line's text), matches no row and
    changes nothing.
    """
    created_at = timezone.now()
    sql, params = line_statement(write, created_at)
    client_id = write.client_id
    # Two sends of one client id at the very same moment still meet the
    # unique constraint; inside a caller's transaction that must not abort
    # it: a savepoint there (a line without a client id can't be a retry).
    guard = transaction.atomic() if client_id and connection.in_atomic_block else nullcontext()
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(sql, cast(list[Any], params))
            row = cursor.fetchone()
    except IntegrityError:
        if client_id and (stored := _stored_line(write.session_id, client_id)):
            return stored, False
        raise
    if row is None:
        return _not_taken(write), False
    message = line_message(write, row, created_at)
    for event, groups in line_events(message, write, primary_id=row[3], team=row[4]):
        publish(event, *groups)
    return message, True


def _store_in_two_statements(write: LineWrite) -> tuple[Message, bool]:
    """SQLite: the conditional UPDATE … RETURNING that takes the numbers, then
    the INSERT, in one transaction. A retry is not looked for first: the
    unique (session, client_id) constraint finds it, and its IntegrityError
    undoes the whole write, numbers included."""
    session_id, session, client_id = write.session_id, write.session, write.client_id
    try:
        with transaction.atomic():
            # The UPDATE takes the session's row lock: concurrent lines of one
            # session are numbered in the order they commit.
            counters = seq_take(write)
            if counters is not None:
                last_seq, last_patron_seq, primary_id, team = counters
                if session is not None:
                    session.last_seq = last_seq
                message = Message.objects.create(
                    **_session_of(write),
                    seq=last_seq,
                    patron_seq=(
                        last_patron_seq if write.visibility == Message.Visibility.PATRON else None
                    ),
                    kind=write.kind,
                    visibility=write.visibility,
                    author=write.author,
                    author_name=write.author_name,
                    text=write.text,
                    url=write.url,
                    client_id=client_id or None,
                )
                for event, groups in line_events(message, write, primary_id=primary_id, team=team):
                    publish(event, *groups)
    except IntegrityError:
        # A retry, or two sends of the same client id at once: the line is stored.
        if client_id and (stored := _stored_line(session_id, client_id)):
            return stored, False
        raise
    if counters is None:
        return _not_taken(write), False
    return message, True


def line_message(write: LineWrite, row: tuple[Any, ...], created_at: Any) -> Message:
    """The Message a line statement (``chat.line_sql.line_statement``) stored,
    from its returned row; touches no database."""
    pk, seq, patron_seq, *_ = row
    message = Message(
        pk=pk,
        **_session_of(write),
        seq=seq,
        patron_seq=patron_seq,
        kind=write.kind,
        visibility=write.visibility,
        author=write.author,
        author_name=write.author_name,
        text=write.text,
        url=write.url,
        created_at=created_at,
        client_id=write.client_id or None,
    )
    message._state.adding = False
    message._state.db = DEFAULT_DB_ALIAS
    if write.session is not None:
        write.session.last_seq = seq
    return message


def line_events(
    message: Message, write: LineWrite, *, primary_id: int | None, team: str | None = None
) -> Outbox:
    """What a stored line tells whom: ``message.created`` to the librarian
    holding the session and the others in it (``team``, as the line
    statement returned it: ``chat.line_sql.team_ids``) and, for a
    patron-visible line, the patron's own event (built from the patron's
    payload only) to the patron."""
    events: Outbox = []
    staff = [primary_id] if primary_id else []
    staff += [pk for pk in team_ids(team) if pk != primary_id]
    if staff:
        event = {
            "type": "message.created",
            "session": write.session_id,
            "message": message_payload(message),
        }
        events.append((event, tuple(librarian_group(pk) for pk in staff)))
    if message.visibility == Message.Visibility.PATRON:
        patron_event = {"type": "message.created", "message": patron_message_payload(message)}
        events.append((patron_event, (patron_group(write.session_id),)))
    return events


def _session_of(write: LineWrite) -> dict[str, Any]:
    """The message's session: the caller's object when it has one, else by id."""
    if write.session is not None:
        return {"session": write.session}
    return {"session_id": write.session_id}


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


def _stored_line(session_id: int, client_id: str) -> Message | None:
    return Message.objects.filter(session_id=session_id, client_id=client_id).first()


def _refusal(session_id: int, primary: Librarian | None) -> ChatError:
    """Say why a conditional line insert matched no row."""
    state, primary_id = ChatSession.objects.values_list("state", "primary_id").get(pk=session_id)
    if state == ChatSession.State.CLOSED:
        return ChatError("session_closed", gettext_lazy("This chat session has ended."))
    # Before the primary check: a waiting session has no primary at all, and
    # "nobody picked it up yet" is what the librarian needs to hear.
    if state == ChatSession.State.WAITING:
        return ChatError(
            "session_waiting", gettext_lazy("No librarian has picked up this session yet.")
        )
    if primary is not None and primary_id != primary.pk:
        if Participant.objects.filter(
            session_id=session_id, librarian=primary, role=Participant.Role.WATCHING,
            ended_at__isnull=True,
        ).exists():  # fmt: skip
            return ChatError("watching", "You are watching this session: you can only read it.")
        return ChatError(
            "not_primary", "Only the librarian chatting with this patron can write here."
        )
    return ChatError(
        "session_waiting", gettext_lazy("No librarian has picked up this session yet.")
    )

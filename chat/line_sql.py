"""The SQL that stores a line: the one conditional UPDATE that takes a
session's next numbers, and on PostgreSQL the one statement that feeds it
into the INSERT.

Raw SQL because the ORM's ``update()`` returns only a row count, and reading
the numbers back is one more round trip per line; ``UPDATE … RETURNING``
(PostgreSQL, SQLite 3.35+) does both at once. Every name comes from the
models' ``_meta``, so a renamed field or table can't leave this behind.
"""

from functools import cache
from typing import Any, cast

from django.db import connection
from django.db.models import Field
from django.db.models.options import Options

from chat.line import LineWrite
from chat.models import ChatSession, Message, Participant
from queues.models import Membership


def line_statement(write: LineWrite, created_at: Any) -> tuple[str, list[object]]:
    """The one statement (PostgreSQL) that stores ``write``, and its parameters."""
    sql = _line_insert_sql(*_take_shape(write), bool(write.client_id), bool(write.url))
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
    if write.url:
        params.append(write.url)
    return sql, params


@cache
def _line_insert_sql(
    patron_visible: bool, states: int, primary: bool, reader: bool, retry_check: bool, page: bool
) -> str:
    """The one statement that stores a line of this shape on PostgreSQL: the
    conditional UPDATE of :func:`_seq_take_sql` as a CTE feeding the INSERT.
    Parameters: session id, the states, primary, reader; with ``retry_check``
    the session id and client id again; then the line's kind, visibility,
    author, author name, text, created_at, client id; with ``page`` (a pushed
    page) its address. Every other line leaves the address to the column's
    default: its statement is the same as before pages existed.

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
            f" WHERE {table}.{qn(_column(meta, 'session'))} = %s"
            f" AND {table}.{qn(_column(meta, 'client_id'))} = %s)"
        )
    stored: tuple[str, ...] = (
        "kind", "visibility", "author", "author_name", "text", "created_at", "client_id",
        *(("url",) if page else ()),
    )  # fmt: skip
    columns = [qn(_column(meta, name)) for name in ("session", "seq", "patron_seq", *stored)]
    session_meta = ChatSession._meta
    pk, last_seq, last_patron_seq, primary_id = (
        qn(session_meta.pk.column),
        qn(_column(session_meta, "last_seq")),
        qn(_column(session_meta, "last_patron_seq")),
        qn(_column(session_meta, "primary")),
    )
    patron_seq = last_patron_seq if patron_visible else "NULL"
    # Typed: in a pipeline the parameters are bound by the server, which
    # can't tell an untyped NULL author from text.
    values = ", ".join(f"CAST(%s AS {_field(meta, name).db_type(connection)})" for name in stored)
    return (
        f"WITH taken AS ({take} RETURNING {pk}, {last_seq}, {last_patron_seq}, {primary_id},"  # noqa: S608
        f" {_team_sql()} AS team),"
        f" stored AS (INSERT INTO {qn(meta.db_table)} ({', '.join(columns)})"
        f" SELECT {pk}, {last_seq}, {patron_seq}, {values} FROM taken"
        f" RETURNING {qn(meta.pk.column)}, {columns[1]}, {columns[2]})"
        f" SELECT stored.*, taken.{primary_id}, taken.team FROM stored, taken"
    )


def seq_take(write: LineWrite) -> tuple[int, int, int | None, str | None] | None:
    """Take the session's next numbers if it may take the line: ``(last_seq,
    last_patron_seq, primary_id, team)`` after the increment, or None if no
    row matched; ``team``: the ids of the other librarians in the session
    (:func:`team_ids`).

    Raw SQL because the ORM's ``update()`` returns only a row count, and
    reading the numbers back is one more round trip per line; ``UPDATE …
    RETURNING`` (PostgreSQL, SQLite 3.35+) does both at once.
    """
    qn = connection.ops.quote_name
    meta = ChatSession._meta
    returning = ", ".join(
        [*(qn(_column(meta, name)) for name in ("last_seq", "last_patron_seq", "primary")),
         _team_sql()]
    )  # fmt: skip
    sql = _seq_take_sql(*_take_shape(write))
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {returning}", cast(list[Any], _take_params(write)))
        # fetchall: SQLite finishes a RETURNING statement only once every row is read.
        rows = cursor.fetchall()
    return rows[0] if rows else None


def team_ids(team: str | None) -> list[int]:
    """The librarians a line statement returned as in the session beside its
    primary (joined or watching: :class:`chat.models.Participant`)."""
    return [int(pk) for pk in team.split(",")] if team else []


@cache
def _team_sql() -> str:
    """The scalar subquery, in a line statement's RETURNING, of the ids of the
    librarians in the session beside its primary, comma-separated (NULL: none)."""
    qn = connection.ops.quote_name
    meta, part = ChatSession._meta, Participant._meta
    table, parts = qn(meta.db_table), qn(part.db_table)
    librarian = f"{parts}.{qn(_column(part, 'librarian'))}"
    together = (
        f"string_agg(CAST({librarian} AS text), ',')"
        if connection.vendor == "postgresql"
        else f"group_concat({librarian}, ',')"
    )
    return (
        f"(SELECT {together} FROM {parts}"  # noqa: S608 - names from _meta
        f" WHERE {parts}.{qn(_column(part, 'session'))} = {table}.{qn(meta.pk.column)}"
        f" AND {parts}.{qn(_column(part, 'ended_at'))} IS NULL)"
    )


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
        params += [write.primary.pk, write.primary.pk]
    if write.reader is not None:
        params.append(write.reader.pk)
    return params


@cache
def _seq_take_sql(patron_visible: bool, states: int, primary: bool, reader: bool) -> str:
    """The conditional UPDATE that takes a session's next numbers, for a shape
    of line (``states``: how many states it may be said in, -1 for any).
    Parameters: the session id, the states, the primary's id (twice: the
    primary, or a librarian who joined), the reader's id.
    The names come from the models, so a renamed field or table can't leave
    this behind.
    """
    qn = connection.ops.quote_name
    meta = ChatSession._meta
    table = qn(meta.db_table)

    def column(name: str) -> str:
        return qn(_column(meta, name))

    last_seq, last_patron_seq = column("last_seq"), column("last_patron_seq")
    assignments = [f"{last_seq} = {last_seq} + 1"]
    if patron_visible:
        assignments.append(f"{last_patron_seq} = {last_patron_seq} + 1")
    conditions = [f"{qn(meta.pk.column)} = %s"]
    if states >= 0:
        conditions.append(f"{column('state')} IN ({', '.join(['%s'] * states)})")
    if primary:
        # The primary, or a librarian who joined at their invitation.
        part = Participant._meta
        parts = qn(part.db_table)
        conditions.append(
            f"({column('primary')} = %s OR EXISTS (SELECT 1 FROM {parts}"  # noqa: S608
            f" WHERE {parts}.{qn(_column(part, 'session'))} = {table}.{qn(meta.pk.column)}"
            f" AND {parts}.{qn(_column(part, 'librarian'))} = %s"
            f" AND {parts}.{qn(_column(part, 'role'))} = '{Participant.Role.JOINED}'"
            f" AND {parts}.{qn(_column(part, 'ended_at'))} IS NULL))"
        )
    if reader:
        # What session_for_librarian checks: the reader belongs to the session's queue.
        member = Membership._meta
        members = qn(member.db_table)
        conditions.append(
            f"EXISTS (SELECT 1 FROM {members}"  # noqa: S608 - names from _meta
            f" WHERE {members}.{qn(_column(member, 'librarian'))} = %s"
            f" AND {members}.{qn(_column(member, 'queue'))} = {table}.{column('queue')})"
        )
    return f"UPDATE {table} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)}"  # noqa: S608


def _field(meta: Options[Any], name: str) -> Field[Any, Any]:
    return cast(Field[Any, Any], meta.get_field(name))


def _column(meta: Options[Any], name: str) -> str:
    column = _field(meta, name).column
    assert column is not None  # a concrete field of the model  # noqa: S101
    return column

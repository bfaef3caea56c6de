"""What people say and do in the tests, through the functions production runs.

A patron's line and a librarian's line are stored by ``chat.lines.line_store``,
the store the sockets' writer (``chat.writer``) uses; one socket's heartbeat
or open is a batch of one of the functions the sockets call in batches; a
sweep is the worker's job of that name (``reference_chat.settings.PERIODIC_JOBS``).
"""

from datetime import datetime

from django.db import OperationalError

from accounts.models import Librarian
from chat import patrons
from chat.lines import librarian_line, line_store, patron_line
from chat.models import ChatSession, Message
from chat.pages import page_line
from shifts import services as shifts


def patron_says(
    session: ChatSession, text: object, *, client_id: str | None = None
) -> tuple[Message, bool]:
    """The patron sends a line (``message.send`` on the patron socket)."""
    return line_store(patron_line(session=session, text=text, client_id=client_id))


def librarian_says(
    session: ChatSession | int,
    librarian: Librarian,
    text: object,
    *,
    client_id: str | None = None,
    note: bool = False,
) -> tuple[Message, bool]:
    """The librarian sends a line, or with ``note`` a Librarian Note (``message.send``)."""
    session_id = session.pk if isinstance(session, ChatSession) else session
    return line_store(
        librarian_line(
            session_id=session_id, librarian=librarian, text=text, client_id=client_id, note=note
        )
    )


def librarian_pushes(
    session: ChatSession | int,
    librarian: Librarian,
    url: object,
    title: object = "",
    *,
    client_id: str | None = None,
) -> tuple[Message, bool]:
    """The librarian pushes a page to the patron (``page.push``: chat/pages.py)."""
    session_id = session.pk if isinstance(session, ChatSession) else session
    return line_store(
        page_line(
            session_id=session_id, librarian=librarian, url=url, title=title, client_id=client_id
        )
    )


def librarian_notes(
    *, session_id: object, librarian: Librarian, text: object, client_id: str | None = None
) -> tuple[Message, bool]:
    """A Librarian Note typed with the Note toggle (``message.send`` with ``note``)."""
    return line_store(
        librarian_line(
            session_id=session_id, librarian=librarian, text=text, client_id=client_id, note=True
        )
    )


def sweep_patrons(*, now: datetime | None = None) -> list[int]:
    """The worker's patron jobs, in order: dead sockets, then lost sessions
    (whose ids are returned)."""
    patrons.patron_sockets_sweep(now=now)
    return patrons.sessions_lost_sweep(now=now)


def patron_connected(session: ChatSession, channel_name: str) -> ChatSession | None:
    """A patron tab opened (``/ws/chat/<token>/``)."""
    [current] = patrons.sessions_patron_connected(sockets=[(session.pk, channel_name)])
    return current


def patron_heartbeat(session: ChatSession, channel_name: str) -> None:
    """A patron tab's heartbeat."""
    patrons.patron_sockets_heartbeat(sockets=[(session, channel_name)])


def console_heartbeat(librarian: Librarian, channel_name: str) -> None:
    """A console's heartbeat."""
    shifts.consoles_heartbeat(consoles=[(librarian, channel_name)])


def worker_runs_queue() -> int:
    """The worker's task loop, until the queue is empty: each ready task
    claimed and run as ``manage.py worker`` does (without its connection
    housekeeping, which would end the test's transaction). Returns how many ran."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        try:
            with exclusive_transaction():
                result = DBTaskResult.objects.ready().get_locked()
                if result is not None:
                    result.claim(worker.worker_id)
        except OperationalError as error:
            # As the worker does: SQLite said another writer holds it; look again.
            if not is_locked_database_exception(error):
                raise
            continue
        if result is None:
            return ran
        worker.run_task(result)
        ran += 1


def transcripts_delivered(*, now: datetime | None = None) -> list[int]:
    """The worker's transcript job, then its task queue: the transcripts due
    are emailed. Returns the sessions whose transcript was queued."""
    from transcripts.delivery import transcripts_enqueue_due

    queued = transcripts_enqueue_due(now=now)
    worker_runs_queue()
    return queued

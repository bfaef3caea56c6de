"""The shared test base: two libraries, four queues and the people who work them.

Who may see what:

- **alice** and **bob** (Riverside Public Library) are members of ``riverside``
  and ``cooperative``.
- **carol** (Hillcrest College Library) is a member of ``hillcrest`` and
  ``cooperative``.
- **dave** (Riverside Public Library) is a member of ``archive`` only, so he
  shares no queue with the patrons of the others: he is the outsider of
  every permission case.
- **frank** can log in but has no librarian profile.
- **sam** is the supervisor: staff, in the Supervisors group, no librarian profile.

Patrons are not accounts; :func:`ask` makes a waiting session the way the
chat form does, through ``sessions.session_enqueue``.
"""

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, async_to_sync, sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import connections
from django.test import Client
from django.utils import timezone, translation

from accounts.models import Librarian, Library
from accounts.services import supervisors_group_ensure
from chat import sessions
from chat.models import ChatSession
from core import db
from queues.models import Membership, Queue
from tests.helpers import Clock, request_reaches

User = get_user_model()

# With Redis a published event takes a round trip to reach a subscriber; with
# the in-memory layer it is there as soon as the publisher returns.
SERVICE_MODE = bool(os.environ.get("REDIS_URL"))
QUIET_SECONDS = 0.3 if SERVICE_MODE else 0.05

DEFAULT_QUESTION = "Do you have large-print copies of Middlemarch?"


def pytest_configure(config: pytest.Config) -> None:
    # WhiteNoise warns on every request that STATIC_ROOT is missing until
    # collectstatic has run; the tests don't serve static files.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture(scope="session", autouse=True)
def database_threads_let_go(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """At the end, the sockets' database threads (core.db) close their
    connections, before the test database is dropped (PostgreSQL refuses to
    drop a database still in use)."""
    yield
    with django_db_blocker.unblock():
        for pool in (db._executor, db._lines_executor, SyncToAsync.single_thread_executor):
            if pool is None:
                continue
            # One task on each thread of the pool: each waits for the others.
            everyone = threading.Barrier(pool._max_workers)

            def close(everyone: threading.Barrier = everyone) -> None:
                everyone.wait(timeout=5)
                connections.close_all()

            for task in [pool.submit(close) for _ in range(pool._max_workers)]:
                task.result(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def no_gc_pause_log() -> None:
    """The server's log of long garbage collections (reference_chat/asgi.py)
    says nothing of this process, which is no server (tests/core/test_gc_watch.py
    puts it back)."""
    from reference_chat import asgi

    asgi._gc_unwatch()


@pytest.fixture(autouse=True)
def line_connections_closed() -> Any:
    """Each test's event loop ends with it: so does its line connection (core.db)."""
    yield
    db.lines_connections_close()


@pytest.fixture(autouse=True)
def static_files_unhashed(settings: Any) -> None:
    """Pages name their static files plainly: with DEBUG off (the default) the
    settings pick the hashed storage, which needs collectstatic's manifest.
    tests/core/test_static.py and tests/test_live_logs.py test that one."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def language_reset() -> Iterator[None]:
    """Each test starts in English: a request in another language (the
    locale middleware activates it on the test's own thread) or a view that
    activates the session's language would otherwise leak into the next."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def locmem_email(settings: Any) -> None:
    """Every email lands in ``mail.outbox`` (the ``mailoutbox`` fixture), never in var/mail."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def no_relay_reader(settings: Any) -> None:
    """No worker runs beside the in-process sockets unless a test starts one
    (tests/core/test_worker.py), so they read no relayed events either."""
    settings.RELAY_READ_SECONDS = 0


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded files (the libraries' logos) go under pytest's own temporary
    folder, never into var/media; a browser test's server reads them there."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """Real password checks, without the deliberately slow production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def test_channel_layer(settings: Any) -> Any:
    """The in-memory channel layer, or Redis with a prefix of this test's own.

    Channels caches layer instances, so the cache is emptied whenever the
    setting changes. The own prefix keeps a developer's running server (same
    Redis) from hearing the tests, and the tests from hearing it.
    """
    if SERVICE_MODE:
        layer: dict[str, Any] = dict(django_settings.CHANNEL_LAYERS["default"])
        layer["CONFIG"] = {**layer["CONFIG"], "prefix": f"test-{uuid.uuid4().hex[:12]}"}
        settings.CHANNEL_LAYERS = {"default": layer}
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def test_cache(settings: Any) -> None:
    """The shared cache (the limits' counters) under a key prefix of this
    test's own: no count of one test (or of a developer's running server on
    the same Redis or database) reaches another."""
    cache = dict(django_settings.CACHES["default"])
    cache["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {"default": cache}


@dataclass
class World:
    riverside_library: Library
    hillcrest_library: Library
    riverside: Queue
    hillcrest: Queue
    cooperative: Queue
    archive: Queue
    alice: Librarian
    bob: Librarian
    carol: Librarian
    dave: Librarian
    frank: AbstractUser
    supervisor: AbstractUser


def _librarian(
    username: str, library: Library, staff_id: str, queues: Iterable[Queue]
) -> Librarian:
    user = User.objects.create_user(username, f"{username}@library.example.org", "x-test-pass")
    librarian = Librarian.objects.create(
        user=user, library=library, display_name=username.capitalize(), staff_id=staff_id
    )
    for queue in queues:
        Membership.objects.create(librarian=librarian, queue=queue)
    return librarian


def _queue(slug: str, name: str, *libraries: Library, email_required: bool = False) -> Queue:
    queue = Queue.objects.create(slug=slug, name=name, email_required=email_required)
    queue.libraries.set(libraries)
    return queue


@pytest.fixture
def world(db: None) -> World:
    riverside_library = Library.objects.create(
        name="Riverside Public Library",
        slug="riverside-public",
        policy="Library cards are free to residents of Riverside County.",
    )
    hillcrest_library = Library.objects.create(
        name="Hillcrest College Library",
        slug="hillcrest-college",
        kind=Library.Kind.ACADEMIC,
        policy="Databases off campus need a college ID.",
    )
    riverside = _queue("riverside", "Ask Riverside", riverside_library)
    hillcrest = _queue(
        "hillcrest", "Hillcrest Research Help", hillcrest_library, email_required=True
    )
    cooperative = _queue(
        "cooperative", "County Libraries Cooperative", riverside_library, hillcrest_library
    )
    archive = _queue("archive", "Riverside Local History Archive", riverside_library)
    supervisor = User.objects.create_user("sam", "sam@library.example.org", "x-test-pass")
    supervisor.is_staff = True
    supervisor.save()
    supervisor.groups.add(supervisors_group_ensure())
    return World(
        riverside_library=riverside_library,
        hillcrest_library=hillcrest_library,
        riverside=riverside,
        hillcrest=hillcrest,
        cooperative=cooperative,
        archive=archive,
        alice=_librarian("alice", riverside_library, "RPL-104", [riverside, cooperative]),
        bob=_librarian("bob", riverside_library, "RPL-117", [riverside, cooperative]),
        carol=_librarian("carol", hillcrest_library, "HC-2031", [hillcrest, cooperative]),
        dave=_librarian("dave", riverside_library, "RPL-150", [archive]),
        frank=User.objects.create_user("frank", "frank@example.org", "x-test-pass"),
        supervisor=supervisor,
    )


@pytest.fixture
def no_maximum(world: World) -> None:
    """Librarians hold any number of chats: for tests that pick up round
    after round (the maximum, 3 by default, is chat/load.py's, tested there)."""
    Queue.objects.update(busy_at=10_000)


@pytest.fixture
def staffed(world: World) -> None:
    """Someone monitors every queue (Alice: Ask Riverside and the
    cooperative; Carol: Hillcrest and the cooperative; Dave: the archive),
    so the chat form takes chats: an unstaffed queue offers "Leave a question"."""
    for librarian, queues in [
        (world.alice, [world.riverside, world.cooperative]),
        (world.carol, [world.hillcrest, world.cooperative]),
        (world.dave, [world.archive]),
    ]:
        Membership.objects.filter(librarian=librarian, queue__in=queues).update(
            is_monitoring=True, monitoring_since=timezone.now()
        )


@pytest.fixture
def riverside_library(world: World) -> Library:
    return world.riverside_library


@pytest.fixture
def hillcrest_library(world: World) -> Library:
    return world.hillcrest_library


@pytest.fixture
def riverside(world: World) -> Queue:
    return world.riverside


@pytest.fixture
def hillcrest(world: World) -> Queue:
    return world.hillcrest


@pytest.fixture
def cooperative(world: World) -> Queue:
    return world.cooperative


@pytest.fixture
def archive(world: World) -> Queue:
    return world.archive


@pytest.fixture
def alice(world: World) -> Librarian:
    return world.alice


@pytest.fixture
def bob(world: World) -> Librarian:
    return world.bob


@pytest.fixture
def carol(world: World) -> Librarian:
    return world.carol


@pytest.fixture
def dave(world: World) -> Librarian:
    return world.dave


@pytest.fixture
def frank(world: World) -> AbstractUser:
    return world.frank


@pytest.fixture
def supervisor(world: World) -> AbstractUser:
    return world.supervisor


@pytest.fixture
def sam(supervisor: Any) -> Client:
    """Sam the supervisor, logged in to the admin (a test client)."""
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The server's clock, moved by the test: ``clock.advance(10)`` is ten seconds later."""
    return Clock(monkeypatch)


Ask = Callable[..., ChatSession]


@pytest.fixture
def ask(world: World) -> Ask:
    """Make a waiting session as a patron would, through the chat form's service.

    ``ask()`` is Dana asking Ask Riverside; every detail can be changed.
    """

    def make(
        queue: Queue | None = None,
        *,
        library: Library | None = None,
        name: str = "Dana",
        email: str = "",
        question: str = DEFAULT_QUESTION,
    ) -> ChatSession:
        queue = queue or world.riverside
        return sessions.session_enqueue(
            queue=queue,
            library=library or queue.libraries.order_by("name")[0],
            patron_name=name,
            patron_email=email,
            question=question,
        )

    return make


@pytest.fixture
def chat(ask: Ask) -> Callable[..., ChatSession]:
    """Make a session that ``librarian`` has picked up (``ask`` arguments
    pass through), once it reached their tier (a cooperative colleague: 40 s on)."""

    def make(librarian: Librarian, **kwargs: Any) -> ChatSession:
        session = ask(**kwargs)
        request_reaches(session, librarian)
        return sessions.session_accept(session_id=session.pk, librarian=librarian)

    return make


@pytest.fixture
def events_of(django_capture_on_commit_callbacks: Any) -> Callable[..., list[dict[str, Any]]]:
    """What clients listening on ``groups`` hear when ``act`` runs and commits.

    A real channel layer (in-memory, or Redis in service mode) with a listener
    subscribed to the groups before ``act`` runs; ``act`` runs on this thread,
    inside the test's transaction, and its after-commit callbacks are run as
    a commit would. Returns the events in the order they arrived.
    """

    def run(groups: Iterable[str], act: Callable[[], object]) -> list[dict[str, Any]]:
        groups = list(groups)

        def act_and_commit() -> None:
            with django_capture_on_commit_callbacks(execute=True):
                act()

        async def scenario() -> list[dict[str, Any]]:
            layer = get_channel_layer()
            channel = await layer.new_channel()
            for group in groups:
                await layer.group_add(group, channel)
            try:
                await sync_to_async(act_and_commit)()
                heard = []
                while True:
                    try:
                        heard.append(await asyncio.wait_for(layer.receive(channel), QUIET_SECONDS))
                    except TimeoutError:
                        return heard
            finally:
                for group in groups:
                    await layer.group_discard(group, channel)

        return async_to_sync(scenario)()

    return run


@pytest.fixture
def heard_by(django_capture_on_commit_callbacks: Any) -> Callable[..., dict[str, list[Any]]]:
    """Like ``events_of``, with one listener per group: who heard what.

    Returns ``{group: [event, ...]}`` for every group named, so a test can
    say that Bob's consoles heard an event and Carol's did not.
    """

    def run(groups: Iterable[str], act: Callable[[], object]) -> dict[str, list[Any]]:
        groups = list(groups)

        def act_and_commit() -> None:
            with django_capture_on_commit_callbacks(execute=True):
                act()

        async def scenario() -> dict[str, list[Any]]:
            layer = get_channel_layer()
            channels = {group: await layer.new_channel() for group in groups}
            for group, channel in channels.items():
                await layer.group_add(group, channel)

            async def listen(channel: str) -> list[Any]:
                heard = []
                while True:
                    try:
                        heard.append(await asyncio.wait_for(layer.receive(channel), QUIET_SECONDS))
                    except TimeoutError:
                        return heard

            try:
                await sync_to_async(act_and_commit)()
                # Every listener waits for the same quiet moment, side by side.
                heard = await asyncio.gather(*(listen(c) for c in channels.values()))
                return dict(zip(channels, heard, strict=True))
            finally:
                for group, channel in channels.items():
                    await layer.group_discard(group, channel)

        return async_to_sync(scenario)()

    return run

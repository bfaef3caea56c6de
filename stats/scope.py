"""Who reads which statistics.

- A supervisor (the ``chat.view_statistics`` permission, which the
  Supervisors group has) who is a librarian reads every queue their library
  serves, every librarian's work in them, and can filter by librarian.
- A superuser reads every library's queues.
- Any other librarian reads their own work only: the sessions they held.
- Anyone else (a supervisor account with no library, a patron) finds nothing.

The figures are in the reader's library's time zone (the server's default
for a superuser with no library).
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from accounts.models import Librarian, Library
from accounts.selectors import librarian_of
from chat.models import ChatSession, Hold
from core.hours import default_time_zone
from queues.models import Queue

PERMISSION = "chat.view_statistics"


@dataclass(frozen=True)
class StatsScope:
    """What a reader may count: ``libraries`` whose queues (None: every
    library), ``own`` the librarian whose work alone (None: everyone's)."""

    reader: Librarian | None
    libraries: tuple[Library, ...] | None
    own: Librarian | None
    zone: str

    @property
    def whole_library(self) -> bool:
        return self.own is None

    def queues(self) -> QuerySet[Queue]:
        queues = Queue.objects.all()
        if self.libraries is not None:
            queues = queues.filter(libraries__in=self.libraries).distinct()
        return queues.order_by("name")

    def queue_sessions(self) -> QuerySet[ChatSession]:
        """Every session of the reader's queues, of any date, whoever held it:
        ``stats.figures.StatsFilter.of`` narrows a librarian's to their own work."""
        return ChatSession.objects.filter(queue__in=self.queues().values("pk"))

    def librarians(self) -> QuerySet[Librarian]:
        """The librarians a supervisor may filter by: of the libraries read."""
        if self.own is not None:
            return Librarian.objects.filter(pk=self.own.pk)
        librarians = Librarian.objects.select_related("library")
        if self.libraries is not None:
            librarians = librarians.filter(library__in=self.libraries)
        return librarians.order_by("display_name", "pk")

    def patron_libraries(self) -> QuerySet[Library]:
        """The patrons' libraries the sessions read can be of (a cooperative's all)."""
        return (
            Library.objects.filter(queues__in=self.queues().values("pk"))
            .distinct()
            .order_by("name")
        )


def held_by(librarian: Librarian) -> Q:
    """Sessions the librarian held: a hold ended, or holding it now."""
    held = Hold.objects.filter(session=OuterRef("pk"), librarian=librarian)
    return Q(primary=librarian) | Q(Exists(held))


def stats_scope(user: Any) -> StatsScope:
    """The reader's scope, or a 404 for someone with no statistics to read."""
    librarian = librarian_of(user)
    zone = librarian.library.time_zone if librarian else default_time_zone()
    if user.is_active and user.is_superuser:
        return StatsScope(reader=librarian, libraries=None, own=None, zone=zone)
    if librarian is None:
        raise Http404("Statistics are read by a library's librarians and supervisors.")
    if user.has_perm(PERMISSION):
        return StatsScope(reader=librarian, libraries=(librarian.library,), own=None, zone=zone)
    return StatsScope(reader=librarian, libraries=(librarian.library,), own=librarian, zone=zone)


def library_scope(library: Library) -> StatsScope:
    """What an API key of ``library`` reads: the whole library, in its zone."""
    return StatsScope(reader=None, libraries=(library,), own=None, zone=library.time_zone)

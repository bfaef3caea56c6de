"""A line before it is stored, and the one rule of who may see it.

A line is patron-visible (the patron's, a librarian's to the patron, the
system's) or staff-only: a Librarian Note. :attr:`LineWrite.visibility` is
the only place that decides it; everything that stores a line takes it from
here, and everything a patron reads goes through
``Message.objects.patron_visible()``.
"""

from dataclasses import dataclass

from accounts.models import Librarian
from chat.models import ChatSession, Message
from core.errors import ChatError

PATRON_VISIBLE_KINDS = {
    Message.Kind.PATRON,
    Message.Kind.LIBRARIAN,
    Message.Kind.SYSTEM,
    Message.Kind.PAGE,
}


@dataclass(slots=True)
class LineWrite:
    """A line to store, checked as far as it can be without the database.

    ``states``: the session states the line may be said in; ``primary``: the
    librarian who must hold the session; ``reader``: a librarian who must
    belong to the session's queue (a session they can't see is not found).
    ``refused``: the line can't be stored, but what its sender hears depends
    on the database: a session the reader can't see is ``not_found`` first.
    ``url``: a pushed page's address (``chat.pages``), its title the ``text``;
    empty for every other line.
    """

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
    refused: ChatError | None = None
    url: str = ""

    @property
    def visibility(self) -> str:
        if self.kind in PATRON_VISIBLE_KINDS:
            return Message.Visibility.PATRON
        return Message.Visibility.STAFF

"""The one domain error every interface turns into a readable message."""

from django.utils.functional import Promise


class ChatError(Exception):
    """A move that is not allowed, with a stable ``code`` and a sentence for people.

    Consumers send it as an ``error`` event, pages show ``message``, the API
    returns it as a 4xx body. Codes are listed in docs/protocol.md.

    A message the patron may read is translated: ``gettext`` where it is
    raised, or a lazy one (``gettext_lazy``) made into text in the language
    active where it is sent (the patron socket's: the session's language),
    for an error raised on a thread that serves several sockets at once.
    """

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(message)
        self.code = code
        self._message = message

    @property
    def message(self) -> str:
        """The sentence, in the language active now."""
        return str(self._message)

    def as_event(self, **extra: object) -> dict[str, object]:
        return {"type": "error", "code": self.code, "message": self.message, **extra}

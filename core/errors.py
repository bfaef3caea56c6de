"""The one domain error every interface turns into a readable message."""


class ChatError(Exception):
    """A move that is not allowed, with a stable ``code`` and a sentence for people.

    Consumers send it as an ``error`` event, pages show ``message``, the API
    returns it as a 4xx body. Codes are listed in docs/protocol.md.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_event(self, **extra: object) -> dict[str, object]:
        return {"type": "error", "code": self.code, "message": self.message, **extra}

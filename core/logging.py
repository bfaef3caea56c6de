"""Keep patron tokens out of every log line.

A patron's token is the key to their conversation, and paths carry it:
``/chat/<token>/``, ``/ws/chat/<token>/``, ``/api/v1/chat/<token>/``, and a
follow-up question's ``/question/<token>/``. Django
logs the path of a 404 or 500 (``Not Found: /chat/<token>/``), an exception's
text may quote one, and so may a traceback. So every record is masked when it
is made, whichever logger made it (ours, Django's, Daphne's, Channels',
asyncio's) and whichever handler writes it: :func:`configure` (Django's
``LOGGING_CONFIG``) installs a record factory that masks the message, the
exception's formatted traceback and the stack, before any filter, formatter or
handler sees the record; Daphne's access log, which is not written through
``logging``, is masked too. :class:`MaskPatronTokens` stays on our handler as
a second guard.
"""

import logging
import logging.config
import re
from typing import Any

TOKEN_PATH = re.compile(r"(/(?:ws/|api/v\d+/)?(?:chat|question)/)[^/\s\"'?#]+")

_formatter = logging.Formatter()


def mask_tokens(text: str) -> str:
    return TOKEN_PATH.sub(r"\1…", text)


def mask_record(record: logging.LogRecord) -> None:
    """Mask the record's message, traceback and stack in place (formatters
    reuse ``exc_text`` when it is set, so the traceback they write is this one)."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it itself
        message = None
    if message is not None:
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = _formatter.formatException(record.exc_info)
        masked = mask_tokens(text)
        if masked != text:
            record.exc_text = masked
    if record.stack_info:
        record.stack_info = mask_tokens(record.stack_info)
    if getattr(record, "request", None) is not None:
        record.request = None  # carries the path into some formatters and mails


def _masking_factory(factory: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        mask_record(record)
        return record

    make.masks_patron_tokens = True  # type: ignore[attr-defined]
    return make


def masking_install() -> None:
    """Mask every record made from now on (once, however often it is called)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "masks_patron_tokens", False):
        logging.setLogRecordFactory(_masking_factory(factory))


def access_log_masking_install() -> None:
    """Mask the request line of Daphne's access log (``--access-log``), which
    is written by Daphne itself, not through ``logging``. Daphne imports the
    application, and so sets Django up, before it writes the first entry."""
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # not served by Daphne
        return
    original = AccessLogGenerator.write_entry
    if getattr(original, "masks_patron_tokens", False):
        return

    def write_entry(self: Any, host: str, date: Any, request: str, *args: Any, **kw: Any) -> None:
        original(self, host, date, mask_tokens(request), *args, **kw)

    write_entry.masks_patron_tokens = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = write_entry


def configure(config: dict[str, Any]) -> None:
    """Django's ``LOGGING_CONFIG``: the masking, then ``LOGGING`` as ``dictConfig`` reads it."""
    masking_install()
    access_log_masking_install()
    logging.config.dictConfig(config)


class MaskPatronTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True

"""Keep patron tokens out of log lines.

Django logs the path of a 404 or 500 (``Not Found: /chat/<token>/``); a
patron's token is the key to their conversation, so it is masked before any
handler sees the record.
"""

import logging
import re

TOKEN_PATH = re.compile(r"(/(?:ws/)?chat/)[^/\s\"']+")


def mask_tokens(text: str) -> str:
    return TOKEN_PATH.sub(r"\1…", text)


class MaskPatronTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.args:
            record.msg = mask_tokens(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = mask_tokens(record.msg)
        if hasattr(record, "request"):
            record.request = None  # carries the path into some formatters
        return True

"""Push a page: a web page a librarian sends the patron, a line of the session like any other.

The line is a ``Message`` of kind ``page``: its title in ``text``, its
address in ``url``, patron-visible (``chat.line``), numbered and stored by
the one line path (``chat.lines.line_store``, the sockets' ``chat.writer``)
with the conditions of a librarian's line: an active session the librarian
holds or joined, of a queue they belong to. The server never fetches the
address: the patron's page shows a card with the title and the address's
host, which opens the page in a new tab.

:func:`page_validate` is the one check of an address and a title, used by
every path that makes a pushed page (:func:`page_line`).
"""

import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from accounts.models import Librarian
from chat.line import LineWrite
from chat.lines import librarian_write
from chat.models import Message
from core.errors import ChatError

# The column's length is the limit: one number for the form, the check and the table.
URL_MAX_CHARS: int = Message._meta.get_field("url").max_length or 2000
TITLE_MAX_CHARS = 200
SCHEMES = ("http", "https")

_is_web_address = URLValidator(schemes=list(SCHEMES))


def _refused(message: str) -> ChatError:
    return ChatError("invalid_page", message)


def _controls(text: str) -> bool:
    """Any control character (C0, DEL, C1) or lone surrogate: never meant in
    an address or a title, and NUL no database here stores."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def _too_long(what: str, limit: int, length: int) -> ChatError:
    return _refused(f"{what} can be at most {limit:,} characters; this one has {length:,}.")


def url_validate(url: object) -> str:
    """The address as it will be stored (white space around it dropped), or
    ``invalid_page`` saying what is wrong with it.

    Only an absolute http or https address with a host is a web page a
    patron can open: ``javascript:``, ``data:``, ``file:``, ``ftp:`` and a
    relative address are refused, and so are credentials in it (a patron
    must never be handed a librarian's password), white space or a control
    character inside, and more than :data:`URL_MAX_CHARS` characters.
    """
    if not isinstance(url, str):
        raise _refused("The address must be text.")
    url = url.strip()
    if not url:
        raise _refused("Type the address of the page, starting with https:// or http://.")
    if len(url) > URL_MAX_CHARS:
        raise _too_long("An address", URL_MAX_CHARS, len(url))
    if _controls(url):
        raise _refused("The address can't contain control characters.")
    if any(c.isspace() for c in url):
        raise _refused("The address can't contain spaces: check it and paste it again.")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ in the host
        raise _refused("That isn't a web address: check the host name.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        if not scheme or "." in scheme:  # "example.org/hours", "/hours", "www.x.org:80"
            raise _refused("Type the whole address, starting with https:// or http://.")
        raise _refused(
            f"Only a web page can be pushed, not a {scheme[:20]}: address:"
            " it must start with https:// or http://."
        )
    if not parts.netloc:  # "https://", "https:/example.org", "http:example.org"
        raise _refused("The address has no host name (such as www.example.org).")
    if "@" in parts.netloc:
        raise _refused(
            "An address with a user name or password in it can't be pushed: remove them."
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is no number or out of range
        _is_web_address(url)
    except (ValueError, ValidationError):
        raise _refused("That isn't a web address: check the host name and the port.") from None
    return url


def title_validate(title: object, *, url: str) -> str:
    """The title as it will be stored: white space collapsed to single spaces;
    empty (or none) is the address itself, cut to :data:`TITLE_MAX_CHARS`.
    ``invalid_page`` for a control character or a title that is too long."""
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise _refused("The title must be text.")
    if _controls(title.translate(_WHITE_SPACE)):
        raise _refused("The title can't contain control characters.")
    title = " ".join(title.split())
    if not title:
        return url if len(url) <= TITLE_MAX_CHARS else url[: TITLE_MAX_CHARS - 1] + "…"
    if len(title) > TITLE_MAX_CHARS:
        raise _too_long("A title", TITLE_MAX_CHARS, len(title))
    return title


# Tab and line breaks in a pasted title are only white space: collapsed, not refused.
_WHITE_SPACE = str.maketrans("\t\n\r", "   ")


def page_validate(*, url: object, title: object) -> tuple[str, str]:
    """The address and title of a page to push, as they will be stored, or
    ``invalid_page`` with what to fix (the address first)."""
    clean_url = url_validate(url)
    return clean_url, title_validate(title, url=clean_url)


def page_line(
    *,
    session_id: object,
    librarian: Librarian,
    url: object,
    title: object,
    client_id: str | None,
) -> LineWrite:
    """A page the librarian pushes to the patron of an active session known by
    its id: the line of kind ``page``, patron-visible, its title the text.

    Requires what a librarian's line requires (``chat.lines.librarian_line``),
    all of it the line's conditional UPDATE: the librarian belongs to the
    session's queue (``not_found``), holds it or joined it (``not_primary``,
    ``watching``), and it is active (``session_closed``, ``session_waiting``);
    and an address and title :func:`page_validate` takes (``invalid_page``).
    Stored by ``chat.lines.line_store`` (or the sockets' writer), which
    publishes ``message.created`` with the ``url`` to the librarians in the
    session and to the patron. A retry with the same ``client_id`` stores
    nothing new.
    """

    def checked() -> tuple[str, str]:
        clean_url, clean_title = page_validate(url=url, title=title)
        return clean_title, clean_url

    return librarian_write(
        session_id=session_id,
        librarian=librarian,
        kind=Message.Kind.PAGE,
        client_id=client_id,
        checked=checked,
    )

"""Web origins a library lists as "Embedding allowed from": parsed, checked, normalised.

An origin is a scheme (http or https), a host and maybe a port, nothing
else: ``https://www.riverside.example.org`` or ``http://127.0.0.1:8001``.
It is what a browser sends in ``Origin`` and what CSP's ``frame-ancestors``
matches, so a path, a query, a wildcard or a user name is refused rather
than guessed at.
"""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A DNS name or an IPv4 address; IPv6 literals in brackets.
_HOST = re.compile(
    r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$"
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_parse(text: str) -> str:
    """One origin, normalised (lower case, no default port, no slash); ValidationError else."""
    value = text.strip()
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValidationError(
            _("%(value)s is not a web origin."), params={"value": value}
        ) from None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in DEFAULT_PORTS or not host or not _HOST.match(host):
        raise ValidationError(
            _(
                "%(value)s is not a web origin: write the scheme and host, "
                "such as https://www.library.example.org."
            ),
            params={"value": value},
        )
    if (
        parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or parts.path not in ("", "/")
    ):
        raise ValidationError(
            _(
                "%(value)s has more than an origin: leave out the path, query and user "
                "(https://www.library.example.org, not …/ask/)."
            ),
            params={"value": value},
        )
    scheme = parts.scheme.lower()
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def origins_parse(text: str) -> list[str]:
    """One origin a line (blank lines skipped), normalised, each once; every error named."""
    found: list[str] = []
    errors: list[ValidationError] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            origin = origin_parse(line)
        except ValidationError as error:
            errors.append(error)
            continue
        if origin not in found:
            found.append(origin)
    if errors:
        raise ValidationError(errors)
    return found

"""Who is asking: the client's address, and the keyed hash it is kept as.

The address is ``REMOTE_ADDR`` (a socket's ``scope["client"]``), or the last
entry of ``CLIENT_ADDRESS_HEADER`` when that is set: the entry the nearest
proxy wrote. ``X-Forwarded-For`` is never believed by default, since a
client can write anything there. Behind the documented nginx, Daphne's
``--proxy-headers`` has already made ``REMOTE_ADDR`` the patron's.

An address is never stored: what limits and blocks keep is
:func:`address_hash`, an HMAC keyed with ``SECRET_KEY``. An IPv6 address
counts as its /64 network, which one household or phone gets whole.
"""

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

IPV6_NETWORK_BITS = 64


def _last_entry(value: str) -> str:
    return value.split(",")[-1].strip()


def client_address(meta: Mapping[str, Any]) -> str:
    """The client address of a request, from its ``META``."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        value = meta.get("HTTP_" + header.upper().replace("-", "_"), "")
        if value and _last_entry(value):
            return _last_entry(value)
    return str(meta.get("REMOTE_ADDR") or "")


def request_client_address(request: HttpRequest) -> str:
    """:func:`client_address` of a request (django-axes' and DRF's hook)."""
    return client_address(request.META)


def scope_client_address(scope: Mapping[str, Any]) -> str:
    """The client address of a socket, from its ASGI scope."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        wanted = header.lower().encode()
        headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", [])
        for name, value in headers:
            if name.lower() == wanted and _last_entry(value.decode("latin-1")):
                return _last_entry(value.decode("latin-1"))
    client = scope.get("client")
    return str(client[0]) if client else ""


def address_hash(address: str) -> str:
    """The keyed hash an address is kept as (64 hex digits); "" for no address."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        key = address
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            key = str(ip.ipv4_mapped)
        elif isinstance(ip, ipaddress.IPv6Address):
            key = str(ipaddress.ip_network(f"{ip}/{IPV6_NETWORK_BITS}", strict=False))
        else:
            key = str(ip)
    return salted_hmac("reference_chat.client_address", key, algorithm="sha256").hexdigest()

"""The API's throttles: per client address without a log-in, per librarian
with one, per key for an API key (``API_KEY_RATE``: each key its own count,
whatever address it comes from).

The counts live in the cache (``CACHES``: Redis, or the database), shared by
every process. The rates are read from the settings on every request
(``API_ANON_RATE``, ``API_USER_RATE``), and the address is the one every
limit uses (``core.clients``): DRF's own guess believes X-Forwarded-For,
which any client can write.
"""

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from api.models import LibraryAPIKey
from core.clients import address_hash, request_client_address


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str:
        return settings.API_ANON_RATE

    def get_ident(self, request: Request) -> str:
        return address_hash(request_client_address(request._request))


class LibrarianThrottle(UserRateThrottle):
    def get_rate(self) -> str:
        return settings.API_USER_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, LibraryAPIKey):
            return None  # a key is counted by KeyThrottle
        return super().get_cache_key(request, view)

    def get_ident(self, request: Request) -> str:
        return address_hash(request_client_address(request._request))


class KeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return settings.API_KEY_RATE

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, LibraryAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}

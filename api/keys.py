"""Who an API key is: the authentication of a request that sends
``Authorization: Api-Key <key>``, and the permission that asks for a scope.

A key is no Django user: a view that takes keys lists
:class:`LibraryKeyAuthentication` beside the session and asks
:class:`KeyOrLibrarian` for its scope; the key is then ``request.auth``
and its library the only one the view reads. A key that is unknown,
revoked or expired is refused (401) with the reason; one without the
scope gets a 403 naming it. Each use is recorded (``last_used_at``).
"""

from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from api.models import LibraryAPIKey

KEYWORD = KeyParser.keyword


class KeyHolder(AnonymousUser):
    """The ``request.user`` of a request made with a key: not a person, and
    never a librarian (no librarian-only view takes it for one)."""

    def __init__(self, key: LibraryAPIKey) -> None:
        self.key = key

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class LibraryKeyAuthentication(BaseAuthentication):
    parser = KeyParser()

    def authenticate(self, request: Request) -> tuple[KeyHolder, LibraryAPIKey] | None:
        sent = self.parser.get_from_authorization(request._request)
        if sent is None:
            return None  # no key: the session decides
        try:
            key = cast(LibraryAPIKey, LibraryAPIKey.objects.get_from_key(sent.strip()))
        except LibraryAPIKey.DoesNotExist:
            raise AuthenticationFailed("This API key is not valid (unknown or revoked).") from None
        if key.has_expired:
            raise AuthenticationFailed("This API key has expired.")
        now = timezone.now()
        LibraryAPIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        return KeyHolder(key), key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class KeyOrLibrarian(BasePermission):
    """A key with the view's ``key_scope`` (or one of ``key_scopes(request)``),
    or a logged-in librarian."""

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth if isinstance(request.auth, LibraryAPIKey) else None
        if key is not None:
            scopes = view.key_scopes(request) if hasattr(view, "key_scopes") else (view.key_scope,)
            if not any(key.allows(scope) for scope in scopes):
                named = " or ".join(f'"{scope}"' for scope in scopes)
                self.message = f"This API key has no {named} scope."
                return False
            return True
        self.message = "Log in as a librarian, or send an API key: Authorization: Api-Key <key>."
        return bool(
            request.user and request.user.is_authenticated and hasattr(request.user, "librarian")
        )

"""Staff logins: how long one lasts idle, and whether the one a socket opened with still holds.

A staff login is a Django session in the database (``django_session``),
whose cookie ends with the browser (``SESSION_EXPIRE_AT_BROWSER_CLOSE``)
and whose row expires ``STAFF_IDLE_SECONDS`` after the librarian last did
something: a page or API request (:class:`IdleMiddleware`), a "Stay logged
in" (:func:`idle_status`), or activity in the console, which goes over its
socket and is written by the console's heartbeat (:func:`logins_extend`).
The server is the judge: an expired row is no login, whatever a page shows.
The pages only warn before it ends (``static/js/idle.js``).

The console socket checks at every heartbeat that the login it was opened
with still holds (:func:`logins_holding`): the row is there and unexpired,
and it still names the user with their current password (a password change
ends every other login, as Django's own check does).
"""

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.cache import never_cache

# When the login was last refreshed by a request (seconds since the epoch).
REFRESHED_KEY = "_idle_refreshed"


def refresh_every() -> int:
    """Requests refresh a login at most this often (seconds): a write per
    minute at most, and often enough for a short idle time in tests."""
    return max(1, min(60, settings.STAFF_IDLE_SECONDS // 20))


def login_tag(session_key: str) -> str:
    """A keyed hash naming a login in events, so the session key itself
    (a credential) never travels through the channel layer or its relay."""
    return salted_hmac("accounts.logins.login_tag", session_key).hexdigest()[:32]


def logins_extend(session_keys: Iterable[str]) -> None:
    """The librarian was active in these logins' consoles: each lasts
    ``STAFF_IDLE_SECONDS`` from now. One UPDATE; an expired login stays expired."""
    keys = list(session_keys)
    if not keys:
        return
    now = timezone.now()
    Session.objects.filter(session_key__in=keys, expire_date__gt=now).update(
        expire_date=now + timedelta(seconds=settings.STAFF_IDLE_SECONDS)
    )


def login_users(session_keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The unexpired logins among ``session_keys``: key → (user id, the
    session's auth hash). One query."""
    keys = list(session_keys)
    if not keys:
        return {}
    store = SessionStore()
    found = {}
    for key, data in Session.objects.filter(
        session_key__in=keys, expire_date__gt=timezone.now()
    ).values_list("session_key", "session_data"):
        decoded = store.decode(data)
        found[key] = (str(decoded.get(SESSION_KEY, "")), str(decoded.get(HASH_SESSION_KEY, "")))
    return found


def auth_hash_matches(password: str, session_hash: str) -> bool:
    """Whether a session's auth hash is the one of a user with this password
    hash now (current secret key or a fallback, as ``django.contrib.auth.get_user``)."""
    user = get_user_model()(password=password)
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(session_hash, user._get_session_auth_hash(secret=secret))  # type: ignore[attr-defined]
        for secret in settings.SECRET_KEY_FALLBACKS
    )


def logins_holding(logins: Iterable[tuple[str, int]], passwords: dict[int, str]) -> set[str]:
    """Which of these (session key, user id) logins still hold: unexpired,
    the same user, whose password is in ``passwords`` (active users only)
    and matches the session's. One query."""
    logins = list(logins)
    users = login_users(key for key, _ in logins)
    holding = set()
    for key, user_id in logins:
        if key not in users or user_id not in passwords:
            continue
        session_user, session_hash = users[key]
        if session_user == str(user_id) and auth_hash_matches(passwords[user_id], session_hash):
            holding.add(key)
    return holding


# --- Requests -------------------------------------------------------------


class IdleMiddleware:
    """Every request of a logged-in user is activity: their login lasts
    ``STAFF_IDLE_SECONDS`` from it (refreshed at most every
    :func:`refresh_every` seconds, so a page of many requests writes once).
    Placed after the authentication middleware; the session middleware
    saves the refreshed row."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "idle_exempt", False):
            return response
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return response  # a patron, or nobody logged in: no session to look at
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(timezone.now().timestamp())
            if now - int(request.session.get(REFRESHED_KEY, 0)) >= refresh_every():
                request.session[REFRESHED_KEY] = now
        return response


def _seconds_left(request: HttpRequest) -> float:
    key = request.session.session_key
    if not key or not request.user.is_authenticated:
        return 0
    expires = (
        Session.objects.filter(session_key=key, expire_date__gt=timezone.now())
        .values_list("expire_date", flat=True)
        .first()
    )
    return max(0.0, (expires - timezone.now()).total_seconds()) if expires else 0


@never_cache
def idle_status(request: HttpRequest) -> JsonResponse:
    """``GET /idle/``: how many seconds the login has left (not activity:
    asking changes nothing). ``POST /idle/``: Stay logged in, a whole idle
    time from now. 401 with ``seconds_left`` 0 once the login has ended."""
    request.idle_exempt = True  # type: ignore[attr-defined]
    if request.method == "POST" and request.user.is_authenticated:
        request.session[REFRESHED_KEY] = int(timezone.now().timestamp())
        request.session.save()
    left = _seconds_left(request)
    body: dict[str, Any] = {
        "seconds_left": round(left),
        "idle_seconds": settings.STAFF_IDLE_SECONDS,
    }
    return JsonResponse(body, status=200 if left > 0 else 401)


def idle_settings(request: HttpRequest) -> dict[str, Any]:
    """Template context: the idle warning's settings, for a logged-in user's pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "staff_idle": {
            "seconds": settings.STAFF_IDLE_SECONDS,
            "warning": settings.STAFF_IDLE_WARNING_SECONDS,
            "every": refresh_every(),
        }
    }

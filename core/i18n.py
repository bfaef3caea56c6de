"""The patron's language: which one a request is served in, and the switcher's links.

Patron pages speak the patron's language: the one chosen with the switcher
(``?lang=es`` on the URL, then the language cookie where cookies are kept),
else the browser's (``Accept-Language``), else English. The ``lang``
parameter is carried on the pages' own links, so a patron whose cookies are
not kept (a private window, a widget's iframe on the library's site) keeps
the language from page to page. Staff pages (the console, Chat History,
log-in, the admin) stay English whatever the browser says: librarians
share one vocabulary, and text a librarian types is never translated.

The chat page reads the language recorded on the session at ask time when
the request names none (``chat.views``); the session's language is the one
its system lines are written in and its transcript email is sent in.
"""

from typing import Literal, cast
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# What set_cookie takes for samesite (settings are read as plain strings).
SameSite = Literal["Lax", "Strict", "None", False] | None

LANG_PARAM = "lang"


def language_supported(code: object) -> str | None:
    """The supported language ``code`` names (``es``, ``es-MX`` → ``es``), or None."""
    if not isinstance(code, str) or not code or len(code) > 16:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def staff_path(path: str) -> bool:
    return path.startswith(tuple(settings.STAFF_PATH_PREFIXES))


class PatronLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (cookie, then Accept-Language), plus ``?lang=``
    first, and English on staff pages.

    A valid ``?lang=`` also sets the language cookie, so a browser that keeps
    cookies keeps the choice on URLs without the parameter too.
    """

    def process_request(self, request: HttpRequest) -> None:
        if staff_path(request.path_info):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        chosen = language_supported(request.GET.get(LANG_PARAM))
        if chosen is None:
            super().process_request(request)
            return
        translation.activate(chosen)
        request.LANGUAGE_CODE = translation.get_language()
        request.language_chosen = chosen  # type: ignore[attr-defined]

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response = super().process_response(request, response)
        chosen = getattr(request, "language_chosen", None)
        # Pages only: the script catalogue names the page's language, not a choice.
        page = response.get("Content-Type", "").startswith("text/html")
        if chosen and page and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                chosen,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                # django-stubs types the setting str; set_cookie wants one of these.
                samesite=cast(SameSite, settings.LANGUAGE_COOKIE_SAMESITE),
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


def language_suffix(request: HttpRequest) -> str:
    """``?lang=es`` when the request chose its language on the URL, else ``""``:
    what the page's own links carry on (cookies may not be kept)."""
    chosen = getattr(request, "language_chosen", None)
    return "?" + urlencode({LANG_PARAM: chosen}) if chosen else ""


def languages(request: HttpRequest) -> dict[str, object]:
    """Template context: ``language_links`` for the switcher (this page in each
    language, other parameters kept) and ``lang_suffix`` for the page's own
    links (``?lang=es``, or empty)."""
    if staff_path(request.path_info):
        return {}
    current = translation.get_language()
    links = []
    for code, name in settings.LANGUAGES:
        query = request.GET.copy()
        query[LANG_PARAM] = code
        links.append(
            {
                "code": code,
                # Each language's name in itself (settings.LANGUAGES): "Español".
                "name": name,
                # Only the query: the path is this page's (a patron's chat URL
                # carries their token, which a page never echoes).
                "url": f"?{query.urlencode()}",
                "current": code == current,
            }
        )
    return {"language_links": links, "lang_suffix": language_suffix(request)}

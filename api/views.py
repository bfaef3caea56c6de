"""The REST API, version 1 (docs/api.md). Read-only, and thin like every interface here.

Each view parses its input, decides who is asking, calls one selector and
serializes. Three audiences, three doors:

- ``status/``: public, for library web sites. Counts only, cacheable.
- ``chat/<token>/``: the patron. The token is the key; no login is looked at,
  just as the patron socket never looks at one.
- ``sessions/``: librarians, by their Django session, scoped to their queues.
"""

import hashlib
from typing import Any

from csp.decorators import csp_update
from django.conf import settings
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.http import quote_etag
from django.utils.translation import get_supported_language_variant, gettext_lazy
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import cache_control, never_cache
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Librarian
from api.selectors import queue_status, status_one
from api.serializers import (
    MAX_ID,
    VALIDATION_ERROR_SCHEMA,
    ErrorSerializer,
    PatronChatSerializer,
    QueueStatusSerializer,
    SessionFilterSerializer,
    StaffSessionDetailSerializer,
    StaffSessionSerializer,
    StatusSerializer,
)
from chat.models import PATRON_TOKEN, ChatSession
from chat.selectors import session_for_librarian, session_for_patron
from core.errors import ChatError
from transcripts.selectors import session_history

# Web sites poll the status; a short shared-cache lifetime keeps a busy site
# from querying the database for every visitor.
STATUS_MAX_AGE = 15

NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the ETag sent in If-None-Match is still the answer's (no body)."
)
NOT_LOGGED_IN = OpenApiResponse(
    ErrorSerializer, description="Not logged in, or logged in without a librarian profile."
)
TOKEN = OpenApiParameter(
    "token",
    {"type": "string", "pattern": f"^{PATRON_TOKEN.pattern}$"},
    OpenApiParameter.PATH,
    description="The token of the patron's chat page (/chat/<token>/).",
)
SESSION_ID = OpenApiParameter(
    "session_id",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    OpenApiParameter.PATH,
    description="The session's id.",
)


class IsLibrarian(BasePermission):
    message = "Only librarians can read Chat History: this account has no librarian profile."

    def has_permission(self, request: Request, view: APIView) -> bool:
        # The reverse one-to-one raises (an AttributeError) when there is no profile.
        return hasattr(request.user, "librarian")


def _librarian(request: Request) -> Librarian:
    return request.user.librarian  # type: ignore[union-attr]


LANG = OpenApiParameter(
    "lang",
    {"type": "string", "maxLength": 20, "example": "es"},
    OpenApiParameter.QUERY,
    required=False,
    description="The language of `message` (a code such as en or es); without it, "
    "Accept-Language decides. One the site doesn't offer falls back to the next choice.",
)
SLUG = OpenApiParameter(
    "slug",
    {"type": "string", "example": "riverside"},
    OpenApiParameter.PATH,
    description="The queue's slug (its chat form is /ask/<slug>/).",
)
NO_SUCH_QUEUE = gettext_lazy("There is no chat service with this name.")


def request_language(request: Request) -> str:
    """The language of the status's ``message``: ``?lang=``, else Accept-Language.

    Never the language cookie: the status reads no cookie, so a shared cache
    may keep it (it varies on Accept-Language only).
    """
    asked = request.query_params.get("lang", "")[:20]
    header = request.headers.get("Accept-Language", "")
    candidates = [asked] if asked else []
    candidates += [code for code, _weight in parse_accept_lang_header(header)]
    for code in candidates:
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class PublicStatusView(APIView):
    """Public, cookieless and readable from any web site's browser (CORS ``*``), errors too."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # No personal data and no credentials: any web site may read it from the browser.
        response["Access-Control-Allow-Origin"] = "*"
        patch_vary_headers(response, ["Accept-Language"])
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            return self._conditional(request, response)
        return response

    @staticmethod
    def _conditional(request: Request, response: Response) -> Any:
        """An ETag of the answer; a poll that sends it back (If-None-Match)
        while nothing changed gets a 304 with no body (and the same headers)."""
        response.render()
        etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
        response["ETag"] = etag
        answer = get_conditional_response(request._request, etag=etag, response=response)
        if answer is not None and answer is not response:
            answer["Access-Control-Allow-Origin"] = "*"
            return answer
        return response


@method_decorator(cache_control(public=True, max_age=STATUS_MAX_AGE), name="dispatch")
class StatusView(PublicStatusView):
    """Is chat open, busy or closed, and why: one entry per queue not switched off."""

    @extend_schema(
        tags=["public"],
        operation_id="status_list",
        parameters=[LANG],
        responses={200: StatusSerializer, 304: NOT_MODIFIED},
        summary="Chat status per queue",
    )
    def get(self, request: Request) -> Response:
        with translation.override(request_language(request)):
            data = StatusSerializer({"queues": queue_status()}, context={"request": request}).data
        return Response(data)


@method_decorator(cache_control(public=True, max_age=STATUS_MAX_AGE), name="dispatch")
class QueueStatusView(PublicStatusView):
    """One queue's status: for a widget or a badge on the library's web site."""

    @extend_schema(
        tags=["public"],
        operation_id="status_queue",
        parameters=[SLUG, LANG],
        responses={
            200: QueueStatusSerializer,
            304: NOT_MODIFIED,
            404: OpenApiResponse(ErrorSerializer, description="No queue has this slug."),
        },
        summary="One queue's chat status",
    )
    def get(self, request: Request, slug: str) -> Response:
        status = status_one(slug)
        if status is None:
            raise NotFound(NO_SUCH_QUEUE)
        with translation.override(request_language(request)):
            data = QueueStatusSerializer(status, context={"request": request}).data
        return Response(data)


@method_decorator(never_cache, name="dispatch")
class PatronChatView(APIView):
    """The patron's own session by its token: the lines a patron may read, nothing else."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        tags=["patron"],
        summary="The patron's own session",
        parameters=[TOKEN],
        responses={
            200: PatronChatSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No session has this token."),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        session = session_for_patron(token=token)
        if session is None:
            raise NotFound(_("There is no chat session with this token."))
        return Response(PatronChatSerializer(session).data)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # The token is in the URL: never send it on as a Referer (errors included).
        response["Referrer-Policy"] = "no-referrer"
        return response


class SessionPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


@method_decorator(never_cache, name="dispatch")
class SessionListView(ListAPIView[ChatSession]):
    """Chat History: sessions of the librarian's queues, newest first, filtered."""

    permission_classes = (IsAuthenticated, IsLibrarian)
    serializer_class = StaffSessionSerializer
    pagination_class = SessionPagination

    @extend_schema(
        tags=["staff"],
        summary="Chat History",
        parameters=[SessionFilterSerializer],
        responses={
            200: StaffSessionSerializer(many=True),
            400: OpenApiResponse(
                VALIDATION_ERROR_SCHEMA, description="A filter is not valid; the body names it."
            ),
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(ErrorSerializer, description="A page past the last."),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        filters = SessionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        sessions = session_history(
            librarian=_librarian(self.request),
            queue_id=given.get("queue"),
            librarian_id=given.get("librarian"),
            date_from=given.get("date_from"),
            date_to=given.get("date_to"),
            text=given.get("text", ""),
            extras={"rating": given.get("rating")},
        )
        # A tie-breaker keeps pages stable when two sessions share a timestamp;
        # each session's rating comes in the same query.
        return sessions.select_related("survey_answer").order_by("-created_at", "-pk")


@method_decorator(never_cache, name="dispatch")
class SessionDetailView(RetrieveAPIView[ChatSession]):
    """One session of the librarian's queues with every line, Librarian Notes included."""

    permission_classes = (IsAuthenticated, IsLibrarian)
    serializer_class = StaffSessionDetailSerializer

    @extend_schema(
        tags=["staff"],
        summary="One session, the whole staff record",
        parameters=[SESSION_ID],
        responses={
            200: StaffSessionDetailSerializer,
            403: NOT_LOGGED_IN,
            404: OpenApiResponse(
                ErrorSerializer, description="No such session in the librarian's queues."
            ),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_object(self) -> ChatSession:
        try:
            return session_for_librarian(
                session_id=self.kwargs["session_id"], librarian=_librarian(self.request)
            )
        except ChatError as error:
            # Same answer whether it exists elsewhere or not at all.
            raise NotFound(error.message) from None


class SchemaView(SpectacularAPIView):
    """The OpenAPI document (YAML, or JSON with ?format=json); its errors are JSON as everywhere."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if response.status_code >= 400:  # a 405, an unknown ?format=
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# Both pages draw their icons from data: images.
@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI, its start script a file of its own (no inline script)."""


@method_decorator(
    # Redoc writes its styles into <style> elements and searches in a blob:
    # worker. Its footer's logo points at redoc.ly, which img-src keeps out.
    csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"], "img-src": ["data:"]}),
    name="dispatch",
)
class RedocView(SpectacularRedocView):
    """Redoc, from our static files."""

"""The widget's pages on our origin: framed in a library's site, or in a pop-up.

- ``GET /widget/<slug>/config/``: what widget.js draws (colours, label, title,
  whether the asking page may frame the chat), public, no cookie, CORS ``*``.
- ``GET /widget/<slug>/``: the ask form in the embed layout.
- ``POST /widget/<slug>/ask/``: that form as JSON. CSRF-exempt, because in a
  cross-site frame the CSRF cookie (SameSite=Lax) is never sent; it reads no
  cookie and authenticates nothing, and answers only a request from our own
  pages (``Origin`` our own, a JSON body: a cross-site page can send neither
  without a CORS preflight we never answer). The same form, ask limit and
  block check as ``/ask/`` (``chat.asking.ask_submit``).
- ``GET /widget/<slug>/chat/<token>/``: the patron's chat in the embed layout.
- ``/widget/<slug>/chat/<token>/question/``: "Leave my question" in the embed
  layout, and ``/widget/<slug>/question/<token>/`` its confirmation
  (questions/views.py's pages, framed). The form posts without a CSRF cookie,
  which a cross-site frame never sends: the token in the path is the
  capability a forger lacks, and only a post from our own pages (``Origin``)
  is taken.
- ``/widget/<slug>/chat/<token>/survey/``: the patron's survey after the chat
  (surveys/views.py's page), framed: its fragment is what the chat shows
  under the end message, posted without a CSRF cookie for the same reason,
  and only from our own pages (``Origin``).

Only the origins the queue lists may frame these pages (CSP
``frame-ancestors`` and no ``X-Frame-Options``); with none listed, nobody
may. Every other page keeps ``frame-ancestors 'none'`` and ``DENY``.
"""

import json
from collections.abc import Callable
from typing import Any

from csp.decorators import csp_replace
from django.http import (
    HttpRequest,
    HttpResponseBase,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.branding import brand_for_library
from chat.asking import ask_submit
from chat.availability import availability_message, queue_availability
from chat.forms import AskForm
from chat.models import ChatSession
from chat.selectors import session_for_patron
from questions.selectors import question_for_patron
from questions.views import LeavePages, confirmation_page, leave_page
from queues.models import Queue
from queues.selectors import brand_for_queue
from surveys.views import SurveyPages, survey_page
from widget.selectors import widget_config, widget_of, widget_texts

# The pop-up page's opener is our frame inside the library's page (another
# origin): Django's default "same-origin" would cut the pop-up off from it
# before the token is handed over.
POPUP_OPENER_POLICY = "unsafe-none"


def _framed(
    request: HttpRequest, response: HttpResponseBase, origins: list[str]
) -> HttpResponseBase:
    """Let ``origins`` (and only them) frame ``response``: django-csp's own
    ``csp_replace`` for ``frame-ancestors``, Django's ``xframe_options_exempt``
    (X-Frame-Options can't name an origin, so it goes and CSP decides). With
    no origin, the site's default stands: never framed."""
    if not origins:
        return response

    def rendered(request: HttpRequest) -> HttpResponseBase:
        return response

    return xframe_options_exempt(csp_replace({"frame-ancestors": origins})(rendered))(request)


def _queue(slug: str) -> Queue | None:
    return Queue.objects.filter(slug=slug).prefetch_related("libraries").first()


def _chat_open(queue: Queue | None) -> bool:
    """The rule of the ask page (/ask/<slug>/, chat.availability): a chat
    starts only while the queue is open (or open but busy); closed by its
    hours or with nobody on, the patron leaves a question instead."""
    return queue is not None and queue_availability(queue).open


def _unavailable(request: HttpRequest, queue: Queue | None) -> HttpResponseBase:
    """An unknown or closed queue: a sentence and the link, never an error page.

    Framable by anyone: it holds nothing but what the status API says and
    the link to the ask page, which is "Leave a question" when the queue
    takes follow-up questions (any reason but switched off).
    """
    context: dict[str, Any] = {"queue": queue}
    if queue is not None:
        availability = queue_availability(queue)
        context["message"] = availability_message(availability)
        context["leave_question"] = availability.reason != "switched_off"
    response = render(request, "widget/unavailable.html", context)
    return _framed(request, response, ["*"])


@require_safe
def widget_config_view(request: HttpRequest, slug: str) -> JsonResponse:
    queue = _queue(slug)
    if queue is None:
        body: dict[str, Any] = {
            "detail": _("No chat service has this name."),
            "texts": widget_texts(),
        }
        response = JsonResponse(body, status=404)
    else:
        response = JsonResponse(widget_config(request=request, queue=queue))
    # Nothing personal and no credentials: any page may read it.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=60"
    response["Vary"] = "Origin, Accept-Language"
    return response


@never_cache
@require_safe
def widget_ask(request: HttpRequest, slug: str) -> HttpResponseBase:
    queue = _queue(slug)
    if queue is None or not _chat_open(queue):
        return _unavailable(request, queue)
    widget = widget_of(queue)
    context = {
        "queue": queue,
        "form": AskForm(queue=queue),
        "widget": widget,
        "brand": brand_for_queue(queue),
    }
    response = render(request, "widget/ask.html", context)
    response["Cross-Origin-Opener-Policy"] = POPUP_OPENER_POLICY
    return _framed(request, response, widget.origins)


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    if request.content_type != "application/json":
        return None
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _own_origin(request: HttpRequest) -> bool:
    return request.headers.get("Origin") == f"{request.scheme}://{request.get_host()}"


@csrf_exempt
@never_cache
@require_POST
def widget_ask_submit(request: HttpRequest, slug: str) -> JsonResponse:
    if not _own_origin(request):
        return JsonResponse({"detail": _("Ask from the chat form.")}, status=403)
    body = _json_body(request)
    if body is None:
        return JsonResponse(
            {"detail": _("The form could not be read. Please try again.")}, status=400
        )
    queue = _queue(slug)
    if queue is None or not _chat_open(queue):
        return JsonResponse({"detail": _("Chat is not available")}, status=409)
    fields = ("patron_name", "patron_email", "library", "question")
    form = AskForm({name: str(body.get(name, "")) for name in fields}, queue=queue)
    session, status = ask_submit(request=request, form=form)
    if session is None:
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return JsonResponse({"errors": errors}, status=status if status != 200 else 400)
    chat_url = request.build_absolute_uri(f"/widget/{queue.slug}/chat/{session.token}/")
    return JsonResponse({"token": session.token, "chat_url": chat_url}, status=201)


@never_cache
@require_safe
def widget_chat(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    session = session_for_patron(token=token)
    if session is None or session.queue.slug != slug:
        return _gone(request, slug)
    # The session's language, as on the chat page (chat.views.patron_chat).
    translation.activate(session.language)
    request.LANGUAGE_CODE = session.language
    widget = widget_of(session.queue)
    context = {
        "session": session,
        "widget": widget,
        "queue": session.queue,
        "brand": brand_for_library(session.library),
    }
    response = render(request, "widget/chat.html", context)
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    response["Cross-Origin-Opener-Policy"] = POPUP_OPENER_POLICY
    return _framed(request, response, widget.origins)


def _leave_pages(slug: str) -> LeavePages:
    return LeavePages(
        form_template="widget/leave.html",
        chat_url=lambda session: reverse("widget-chat", args=[slug, session.token]),
        confirmation_url=lambda question: reverse("widget-question", args=[slug, question.token]),
    )


def _gone(request: HttpRequest, slug: str) -> HttpResponseBase:
    queue = _queue(slug)
    response = render(request, "widget/gone.html", {"slug": slug}, status=404)
    return _framed(request, response, widget_of(queue).origins if queue else [])


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def widget_leave(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    return _session_page(
        request,
        slug,
        token,
        refusal=_("Leave your question from the chat."),
        page=lambda session: leave_page(request, session, _leave_pages(slug)),
    )


def _session_page(
    request: HttpRequest,
    slug: str,
    token: str,
    *,
    refusal: str,
    page: Callable[[ChatSession], HttpResponseBase],
) -> HttpResponseBase:
    """A page of the patron's own session in the panel, framed for the
    queue's origins: a post only from our own origin (``refusal`` otherwise:
    the token in the path is the capability, there is no CSRF cookie in a
    cross-site frame), a token of another queue or none "gone"."""
    if request.method == "POST" and not _own_origin(request):
        return HttpResponseForbidden(refusal)
    session = session_for_patron(token=token)
    if session is None or session.queue.slug != slug:
        return _gone(request, slug)
    return _framed(request, page(session), widget_of(session.queue).origins)


@never_cache
@require_safe
def widget_question(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    question = question_for_patron(token=token)
    if question is None or question.queue.slug != slug:
        return _gone(request, slug)
    response = confirmation_page(request, question, "widget/confirmation.html")
    return _framed(request, response, widget_of(question.queue).origins)


def _survey_pages(slug: str) -> SurveyPages:
    return SurveyPages(
        page_template="widget/survey.html",
        survey_url=lambda session: reverse("widget-survey", args=[slug, session.token]),
        chat_url=lambda session: reverse("widget-chat", args=[slug, session.token]),
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def widget_survey(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    return _session_page(
        request,
        slug,
        token,
        refusal=_("Answer the survey from the chat."),
        page=lambda session: survey_page(request, session, _survey_pages(slug)),
    )

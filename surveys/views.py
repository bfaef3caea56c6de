"""The patron's survey after the chat: ``/chat/<token>/survey/``.

The token in the path is the patron's only key, as on the chat page
(chat/views.py): an unknown token is a 404 that says nothing of any other
session. The chat page asks for the survey when the chat has ended, as a
fragment (``?fragment=1``) it shows under the end message, and posts it by
``fetch`` (``Accept: application/json``: the answer is JSON); without a
script the same address is a page of its own and takes a plain POST.

On our own pages the form carries Django's CSRF token, and the responses
send no Referer beyond our origin (``same-origin``: under ``no-referrer``
the browser sends a form's POST with ``Origin: null``, which the CSRF check
refuses). The widget's frame (widget/views.py) serves the same page in its
layout.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.branding import brand_for_library
from chat.models import ChatSession
from chat.selectors import session_for_patron
from core.errors import ChatError
from core.i18n import LANG_PARAM, language_supported
from surveys.models import COMMENT_MAX_CHARS, RATING_MAX, RATING_MIN, SurveyAnswer
from surveys.selectors import answer_of, survey_of, survey_offered
from surveys.services import rating_parse, survey_answer_submit

# Refusals by HTTP status: the chat isn't over yet, or the rest (a bad answer).
CONFLICTS = {"session_open", "no_survey"}


@dataclass(frozen=True)
class SurveyPages:
    """Where the survey lives: our own pages, or the widget's frame."""

    page_template: str
    survey_url: Callable[[ChatSession], str]
    chat_url: Callable[[ChatSession], str]


OWN_PAGES = SurveyPages(
    page_template="surveys/survey.html",
    survey_url=lambda session: reverse("patron-survey", kwargs={"token": session.token}),
    chat_url=lambda session: reverse("patron-chat", kwargs={"token": session.token}),
)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    return response


def survey_page(request: HttpRequest, session: ChatSession, pages: SurveyPages) -> HttpResponse:
    """The survey of ``session``: its form, its answer, or its refusal."""
    # The session's language, unless the page chose another (?lang=).
    if language_supported(request.GET.get(LANG_PARAM)) is None:
        translation.activate(session.language)
        request.LANGUAGE_CODE = session.language
    survey = survey_of(session.queue)
    answer = answer_of(session)
    context: dict[str, object] = {
        "session": session,
        "survey": survey,
        "survey_url": pages.survey_url(session),
        "chat_url": pages.chat_url(session),
        "brand": brand_for_library(session.library),
        "answered": answer is not None,
        "message": _("Thank you for your feedback."),
        "values": {},
        "error": "",
    }
    status = 200
    if request.method == "POST":
        posted = request.POST
        try:
            answer, created = survey_answer_submit(
                session=session,
                helped=posted.get("helped", ""),
                rating=rating_parse(posted.get("rating", "")),
                comment=posted.get("comment", ""),
                language=translation.get_language() or session.language,
            )
        except ChatError as error:
            status = 409 if error.code in CONFLICTS else 400
            if _wants_json(request):
                return _private(
                    JsonResponse({"code": error.code, "detail": error.message}, status=status)
                )
            # The form again with what was typed, and why it was refused.
            context.update(values=posted, error=error.message)
        else:
            message = (
                _("Thank you for your feedback.")
                if created
                else _("You have already answered this survey — thank you.")
            )
            if _wants_json(request):
                body = {"answered": True, "first": created, "detail": message}
                return _private(JsonResponse(body, status=201 if created else 200))
            context.update(answered=True, message=message)
    offered = survey_offered(session, survey)
    if request.GET.get("fragment"):
        if not offered and answer is None:
            return _private(HttpResponse(status=204))  # nothing to show under the chat
        template = "surveys/_survey.html"
    else:
        template = pages.page_template
    context.update(
        offered=offered,
        helped_choices=SurveyAnswer.Helped.choices,
        ratings=range(RATING_MIN, RATING_MAX + 1),
        rating_max=RATING_MAX,
        comment_max=COMMENT_MAX_CHARS,
        comment_limit=number_format(COMMENT_MAX_CHARS, force_grouping=True),
    )
    return _private(render(request, template, context, status=status))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def patron_survey(request: HttpRequest, token: str) -> HttpResponse:
    session = session_for_patron(token=token)
    if session is None:
        if _wants_json(request):
            return _private(
                JsonResponse({"detail": _("There is no chat session with this token.")}, status=404)
            )
        raise Http404("No such chat session.")
    return survey_page(request, session, OWN_PAGES)

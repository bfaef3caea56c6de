"""The patron's follow-up question pages: "Leave a question" on a queue
nobody can answer now, "Leave my question" from a waiting chat, and the
confirmation that says when to expect the answer."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.branding import brand_for_library
from chat.availability import availability_message, queue_availability, week_hours
from chat.models import ChatSession
from chat.selectors import session_for_patron
from core.clients import address_hash, request_client_address
from core.errors import ChatError
from core.i18n import LANG_PARAM, language_supported
from core.zones import zone_label
from questions.forms import LeaveForm, QuestionForm
from questions.models import Question
from questions.selectors import policy_of, question_for_patron
from questions.services import question_ask, question_leave, waiting_lines
from queues.models import Queue
from queues.selectors import brand_for_queue


def _private(response: HttpResponse) -> HttpResponse:
    # The token is the patron's key: never send it on as a Referer to another
    # site. Same-origin, not no-referrer: under no-referrer the browser sends
    # the form's POST with ``Origin: null``, which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def _speak(request: HttpRequest, language: str) -> None:
    """The page speaks ``language`` (the session's, the question's) unless the
    request chose another on the URL (the switcher: ``?lang=``)."""
    if language_supported(request.GET.get(LANG_PARAM)) is None and language:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def question_ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    """``/ask/<slug>/question/``: where the chat form turns a patron whose
    queue is closed by its hours or has nobody on (``chat.views.ask_form``
    sends them here). The closed page (when it opens again, the week's
    hours) with the "Leave a question" form in it."""
    queue = get_object_or_404(Queue, slug=slug)
    availability = queue_availability(queue)
    if availability.open and request.method != "POST":
        return redirect("ask-form", slug=slug)
    context: dict[str, object] = {
        "queue": queue,
        "availability": availability,
        "message": availability_message(availability),
        "zone_name": zone_label(availability.time_zone),
        "hours": week_hours(queue),
        "brand": brand_for_queue(queue),
    }
    if availability.reason == "switched_off":
        # The administrator's "no": no chat, and no question either.
        return render(request, "patron/queue_closed.html", context, status=503)
    form = QuestionForm(request.POST or None, queue=queue)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            question = question_ask(
                queue=queue,
                library=form.cleaned_data["library"],
                patron_name=form.cleaned_data["patron_name"],
                patron_email=form.cleaned_data["patron_email"],
                question=form.cleaned_data["question"],
                address_hash=address_hash(request_client_address(request)),
            )
        except ChatError as error:
            # Nothing is stored, and the form keeps what the patron typed.
            form.add_error(None, error.message)
            status = 429 if error.code == "too_many_requests" else 400
        else:
            return redirect("question-confirmation", token=question.token)
    return render(request, "questions/ask.html", {**context, "form": form}, status=status)


@dataclass(frozen=True)
class LeavePages:
    """Where "Leave my question" lives: on our own pages, or in the widget's
    frame on a library's site (widget/views.py), which has its own layout
    and its own addresses for the chat and the confirmation."""

    form_template: str
    chat_url: Callable[[ChatSession], str]
    confirmation_url: Callable[[Question], str]


OWN_PAGES = LeavePages(
    form_template="questions/leave.html",
    chat_url=lambda session: reverse("patron-chat", kwargs={"token": session.token}),
    confirmation_url=lambda question: reverse(
        "question-confirmation", kwargs={"token": question.token}
    ),
)


def leave_page(request: HttpRequest, session: ChatSession, pages: LeavePages) -> HttpResponse:
    """A waiting patron's "Leave my question" form, and its submission."""
    # The session's language: the question left from it is asked (and emailed) in it.
    _speak(request, session.language)
    left = Question.objects.filter(session=session).first()
    if left is not None:
        return _private(redirect(pages.confirmation_url(left)))
    if session.state != ChatSession.State.WAITING:
        return _private(redirect(pages.chat_url(session)))
    carried = "\n\n".join(waiting_lines(session)) or session.question
    form = LeaveForm(
        request.POST or None, initial={"patron_email": session.patron_email, "question": carried}
    )
    if request.method == "POST" and form.is_valid():
        try:
            question = question_leave(
                session=session,
                patron_email=form.cleaned_data["patron_email"],
                question=form.cleaned_data["question"],
                address_hash=address_hash(request_client_address(request)),
            )
        except ChatError as error:
            if error.code == "session_taken":
                return _private(redirect(pages.chat_url(session)))
            form.add_error(None, error.message)
        else:
            return _private(redirect(pages.confirmation_url(question)))
    page = {
        "session": session,
        "form": form,
        "brand": brand_for_library(session.library),
        "chat_url": pages.chat_url(session),
    }
    return _private(render(request, pages.form_template, page))


@never_cache
def question_leave_form(request: HttpRequest, token: str) -> HttpResponse:
    """``/chat/<token>/question/``: a waiting patron's "Leave my question"."""
    session = session_for_patron(token=token)
    if session is None:
        raise Http404("No such chat session.")
    return leave_page(request, session, OWN_PAGES)


@never_cache
def question_offer(request: HttpRequest, token: str) -> JsonResponse:
    """``/chat/<token>/question/offer/``: when the wait view offers "Leave my
    question" (after the queue's time; at once when nobody is on)."""
    session = session_for_patron(token=token)
    if session is None:
        return JsonResponse({"detail": _("No such chat session.")}, status=404)
    policy = policy_of(session.queue)
    return JsonResponse(
        {
            "offer_after_seconds": policy.offer_after_seconds,
            "url": reverse("question-leave", kwargs={"token": token}),
        }
    )


def confirmation_page(request: HttpRequest, question: Question, template: str) -> HttpResponse:
    """The question as received, and when to expect the answer."""
    _speak(request, question.language)
    context = {
        "question": question,
        "max_chars": settings.CHAT_MAX_LINE_CHARS,
        "brand": brand_for_library(question.library),
    }
    return _private(render(request, template, context))


@never_cache
def question_confirmation(request: HttpRequest, token: str) -> HttpResponse:
    """``/question/<token>/``: the question as received, and when to expect the answer."""
    question = question_for_patron(token=token)
    if question is None:
        raise Http404("No such question.")
    return confirmation_page(request, question, "questions/confirmation.html")

"""The patron's pages: the list of chat services, a chat form, and the chat itself."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache

from accounts.branding import brand_for_library
from chat.asking import ask_submit
from chat.availability import (
    Availability,
    availability_message,
    queue_availability,
    week_hours,
)
from chat.forms import AskForm
from chat.selectors import session_for_patron
from chat.sessions import session_language_set
from core.i18n import LANG_PARAM, language_suffix, language_supported
from core.zones import zone_label
from queues.models import Queue
from queues.selectors import brand_for_queue, open_queues

# Closed to asking at all: switched off. Closed by the hours, or with nobody
# on, a patron still asks: the form is "Leave a question" (questions/),
# answered later by email.
CLOSED_TO_ASKING = {"switched_off"}


def _status(queue: Queue) -> dict[str, object]:
    availability: Availability = queue_availability(queue)
    return {
        "queue": queue,
        "availability": availability,
        "message": availability_message(availability),
        "zone_name": zone_label(availability.time_zone),
        "can_ask": availability.reason not in CLOSED_TO_ASKING,
    }


def ask_list(request: HttpRequest) -> HttpResponse:
    queues = open_queues()
    return render(request, "patron/ask_list.html", {"statuses": [_status(q) for q in queues]})


def _page(queue: Queue) -> dict[str, object]:
    """What the form's page shows beside the form: its week of hours, its brand."""
    return {"hours": week_hours(queue), "brand": brand_for_queue(queue)}


def ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    queue = get_object_or_404(Queue, slug=slug)
    status = _status(queue)
    availability: Availability = status["availability"]  # type: ignore[assignment]
    # Nothing is stored for a queue switched off, whatever is posted: the
    # administrator's "no", 503 as before hours existed (no question either).
    if not status["can_ask"]:
        return render(request, "patron/queue_closed.html", {**status, **_page(queue)}, status=503)
    if not availability.open:
        # Closed by its hours, or nobody on: the form becomes "Leave a
        # question" (the questions app), answered later by email. A chat
        # asked for as the queue closed goes there as it was posted (307):
        # nothing typed is lost.
        question_url = reverse("question-ask", kwargs={"slug": slug})
        response = HttpResponseRedirect(question_url + language_suffix(request))
        if request.method == "POST":
            response.status_code = 307
        return response
    form = AskForm(request.POST or None, queue=queue)
    code = 200
    if request.method == "POST":
        session, code = ask_submit(request=request, form=form)
        if session is not None:
            # Straight on to the chat: the page's hours and brand are read
            # only for a page that is shown (a new request reaches the
            # librarians the sooner: docs/performance.md).
            chat_url = reverse("patron-chat", kwargs={"token": session.token})
            return redirect(chat_url + language_suffix(request))
    context = {**status, **_page(queue), "form": form}
    return render(request, "patron/ask_form.html", context, status=code)


@never_cache
def patron_chat(request: HttpRequest, token: str) -> HttpResponse:
    session = session_for_patron(token=token)
    if session is None:
        raise Http404("No such chat session.")
    # The language chosen on this page (the switcher: ?lang=) becomes the
    # session's; without one, the page speaks the session's language.
    chosen = language_supported(request.GET.get(LANG_PARAM))
    if chosen:
        session = session_language_set(session=session, language=chosen)
    translation.activate(session.language)
    request.LANGUAGE_CODE = session.language
    # The patron's own library's brand, in a cooperative queue too.
    brand = brand_for_library(session.library)
    response = render(request, "patron/chat.html", {"session": session, "brand": brand})
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response

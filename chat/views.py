"""The patron's pages: the list of chat services, a chat form, and the chat itself."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from chat.asking import ask_submit
from chat.availability import (
    Availability,
    availability_message,
    queue_availability,
    week_hours,
)
from chat.forms import AskForm
from chat.selectors import session_for_patron
from core.zones import zone_label
from queues.hours import HOURS_PREFETCH
from queues.models import Queue
from queues.selectors import open_queues

# Closed in a way a patron can't wait out by asking: switched off, or the
# hours. Nobody monitoring ("unstaffed") still takes the question: someone
# may come on, and the follow-up question form (issue 15) takes it from here.
CLOSED_TO_ASKING = {"switched_off", "outside_hours", "holiday"}


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
    queues = open_queues().prefetch_related(*HOURS_PREFETCH)
    return render(request, "patron/ask_list.html", {"statuses": [_status(q) for q in queues]})


def ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    queue = get_object_or_404(Queue.objects.prefetch_related(*HOURS_PREFETCH), slug=slug)
    status = {**_status(queue), "hours": week_hours(queue)}
    availability: Availability = status["availability"]  # type: ignore[assignment]
    # Nothing is stored for a queue closed to asking, whatever is posted.
    if not status["can_ask"]:
        # Switched off is the administrator's "no": 503, as before hours existed.
        code = 503 if availability.reason == "switched_off" else 200
        return render(request, "patron/queue_closed.html", status, status=code)
    form = AskForm(request.POST or None, queue=queue)
    status["form"] = form
    code = 200
    if request.method == "POST":
        session, code = ask_submit(request=request, form=form)
        if session is not None:
            return redirect("patron-chat", token=session.token)
    return render(request, "patron/ask_form.html", status, status=code)


@never_cache
def patron_chat(request: HttpRequest, token: str) -> HttpResponse:
    session = session_for_patron(token=token)
    if session is None:
        raise Http404("No such chat session.")
    response = render(request, "patron/chat.html", {"session": session})
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response

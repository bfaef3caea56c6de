"""The patron's pages: the list of chat services, a chat form, and the chat itself."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from chat.forms import AskForm
from chat.reachable import queue_reachable
from chat.selectors import session_for_patron
from chat.sessions import session_enqueue
from core.clients import address_hash, request_client_address
from core.errors import ChatError
from core.limits import limit_take
from queues.models import Queue
from queues.selectors import open_queues

TOO_MANY_REQUESTS = (
    "Too many chat requests have come from your connection in the last hour. "
    "Please try again later."
)


def ask_list(request: HttpRequest) -> HttpResponse:
    return render(request, "patron/ask_list.html", {"queues": open_queues()})


def ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    queue = get_object_or_404(Queue, slug=slug)
    if not queue_reachable(queue).open:
        # Nobody can answer now: the form becomes "Leave a question" (the
        # questions app), answered later by email. A question typed as the
        # queue closed goes there as it was posted (307), nothing lost.
        response = HttpResponseRedirect(reverse("question-ask", kwargs={"slug": slug}))
        if request.method == "POST":
            response.status_code = 307
        return response
    form = AskForm(request.POST or None, queue=queue)
    if request.method == "POST" and form.is_valid():
        address = address_hash(request_client_address(request))
        if not limit_take(scope="ask", key=address, limit=settings.ASK_LIMIT_PER_HOUR, window=3600):
            # Nothing is stored, and the form keeps what the patron typed.
            form.add_error(None, TOO_MANY_REQUESTS)
            return render(
                request, "patron/ask_form.html", {"queue": queue, "form": form}, status=429
            )
        try:
            session = session_enqueue(
                queue=queue,
                library=form.cleaned_data["library"],
                patron_name=form.cleaned_data["patron_name"],
                patron_email=form.cleaned_data["patron_email"],
                question=form.cleaned_data["question"],
                address_hash=address,
            )
        except ChatError as error:
            form.add_error(None, error.message)
        else:
            return redirect("patron-chat", token=session.token)
    return render(request, "patron/ask_form.html", {"queue": queue, "form": form})


@never_cache
def patron_chat(request: HttpRequest, token: str) -> HttpResponse:
    session = session_for_patron(token=token)
    if session is None:
        raise Http404("No such chat session.")
    response = render(request, "patron/chat.html", {"session": session})
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response

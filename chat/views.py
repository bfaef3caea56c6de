"""The patron's pages: the list of chat services, a chat form, and the chat itself."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from accounts.branding import brand_for_library
from chat.forms import AskForm
from chat.selectors import session_for_patron
from chat.sessions import session_enqueue
from core.clients import address_hash, request_client_address
from core.errors import ChatError
from core.limits import limit_take
from queues.models import Queue
from queues.selectors import brand_for_queue, open_queues

TOO_MANY_REQUESTS = (
    "Too many chat requests have come from your connection in the last hour. "
    "Please try again later."
)


def ask_list(request: HttpRequest) -> HttpResponse:
    return render(request, "patron/ask_list.html", {"queues": open_queues()})


def ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    queue = get_object_or_404(Queue, slug=slug)
    brand = brand_for_queue(queue)
    if not queue.is_open:
        return render(
            request, "patron/queue_closed.html", {"queue": queue, "brand": brand}, status=503
        )
    form = AskForm(request.POST or None, queue=queue)
    page = {"queue": queue, "form": form, "brand": brand}
    if request.method == "POST" and form.is_valid():
        address = address_hash(request_client_address(request))
        if not limit_take(scope="ask", key=address, limit=settings.ASK_LIMIT_PER_HOUR, window=3600):
            # Nothing is stored, and the form keeps what the patron typed.
            form.add_error(None, TOO_MANY_REQUESTS)
            return render(request, "patron/ask_form.html", page, status=429)
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
    return render(request, "patron/ask_form.html", page)


@never_cache
def patron_chat(request: HttpRequest, token: str) -> HttpResponse:
    session = session_for_patron(token=token)
    if session is None:
        raise Http404("No such chat session.")
    # The patron's own library's brand, in a cooperative queue too.
    brand = brand_for_library(session.library)
    response = render(request, "patron/chat.html", {"session": session, "brand": brand})
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response

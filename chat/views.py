"""The patron's pages: the list of chat services, a chat form, and the chat itself."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from chat.asking import ask_submit
from chat.forms import AskForm
from chat.selectors import session_for_patron
from queues.models import Queue
from queues.selectors import open_queues


def ask_list(request: HttpRequest) -> HttpResponse:
    return render(request, "patron/ask_list.html", {"queues": open_queues()})


def ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    queue = get_object_or_404(Queue, slug=slug)
    if not queue.is_open:
        return render(request, "patron/queue_closed.html", {"queue": queue}, status=503)
    form = AskForm(request.POST or None, queue=queue)
    status = 200
    if request.method == "POST":
        session, status = ask_submit(request=request, form=form)
        if session is not None:
            return redirect("patron-chat", token=session.token)
    return render(request, "patron/ask_form.html", {"queue": queue, "form": form}, status=status)


@never_cache
def patron_chat(request: HttpRequest, token: str) -> HttpResponse:
    session = session_for_patron(token=token)
    if session is None:
        raise Http404("No such chat session.")
    response = render(request, "patron/chat.html", {"session": session})
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response

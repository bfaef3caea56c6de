"""The patron's pages: the list of chat services, a chat form, and the chat itself."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from chat.forms import AskForm
from chat.selectors import session_for_patron
from chat.sessions import session_enqueue, session_language_set
from core.clients import address_hash, request_client_address
from core.errors import ChatError
from core.i18n import LANG_PARAM, language_suffix, language_supported
from core.limits import limit_take
from queues.models import Queue
from queues.selectors import open_queues

TOO_MANY_REQUESTS = _(
    "Too many chat requests have come from your connection in the last hour. "
    "Please try again later."
)


def ask_list(request: HttpRequest) -> HttpResponse:
    return render(request, "patron/ask_list.html", {"queues": open_queues()})


def ask_form(request: HttpRequest, slug: str) -> HttpResponse:
    queue = get_object_or_404(Queue, slug=slug)
    if not queue.is_open:
        return render(request, "patron/queue_closed.html", {"queue": queue}, status=503)
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
                # The patron's language: the chat, its system lines and its
                # transcript email go on in it (core/i18n.py).
                language=translation.get_language(),
            )
        except ChatError as error:
            form.add_error(None, error.message)
        else:
            chat_url = reverse("patron-chat", kwargs={"token": session.token})
            return redirect(chat_url + language_suffix(request))
    return render(request, "patron/ask_form.html", {"queue": queue, "form": form})


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
    response = render(request, "patron/chat.html", {"session": session})
    # The token is the patron's key: never send it on as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    return response

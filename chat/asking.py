"""A patron's chat request, from a filled-in ``AskForm`` to a waiting session.

One path for every way a patron asks: the ask page (``/ask/<slug>/``) and
the widget's framed form (``widget.views``) both call :func:`ask_submit`,
so the form's validation, the ask limit per connection and the block check
are the same everywhere.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from chat.forms import AskForm
from chat.models import ChatSession
from chat.sessions import session_enqueue
from core.clients import address_hash, request_client_address
from core.errors import ChatError
from core.limits import limit_take

TOO_MANY_REQUESTS = _(
    "Too many chat requests have come from your connection in the last hour. "
    "Please try again later."
)


def ask_submit(*, request: HttpRequest, form: AskForm) -> tuple[ChatSession | None, int]:
    """The session a valid form starts, or None with the reason on the form.

    Returns the session (or None) and the HTTP status to answer with: 429
    when the connection asked too often (nothing is stored, and the form
    keeps what the patron typed), 200 otherwise. A refusal of the session
    (a block, a closed queue) is a non-field error of the form.
    """
    if not form.is_valid():
        return None, 200
    address = address_hash(request_client_address(request))
    if not limit_take(scope="ask", key=address, limit=settings.ASK_LIMIT_PER_HOUR, window=3600):
        form.add_error(None, TOO_MANY_REQUESTS)
        return None, 429
    try:
        session = session_enqueue(
            queue=form.queue,
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
        return None, 200
    return session, 200

"""Chat History: the staff record of past sessions, Librarian Notes included.

Each view renders a whole page, or only its content when the console asks
for a fragment (``?fragment=1``) to show inside its Chat History tab.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Librarian
from accounts.selectors import librarian_or_404
from chat.selectors import session_for_librarian, session_lines
from core.errors import ChatError
from core.fragments import fragment_template
from im.selectors import im_for
from queues.selectors import librarians_sharing_queues, queues_of
from transcripts.extras import history_filters
from transcripts.forms import HistoryFilterForm
from transcripts.selectors import (
    history_filter_lists,
    im_history,
    session_facts,
    session_follow_up,
    session_history,
    session_wrapups,
)

PAGE_SIZE = 25


def _librarian(request: HttpRequest) -> Librarian:
    return librarian_or_404(request.user, "Only librarians have a Chat History.")


def _template(request: HttpRequest, name: str) -> str:
    return fragment_template(request, "history", name)


@login_required
def history_list(request: HttpRequest) -> HttpResponse:
    librarian = _librarian(request)
    codes, tags = history_filter_lists(librarian)
    form = HistoryFilterForm(
        request.GET or None,
        queues=queues_of(librarian),
        librarians=librarians_sharing_queues(librarian),
        codes=codes,
        tags=tags,
    )
    filters = form.cleaned_data if form.is_valid() else {}
    sessions = session_history(
        librarian=librarian,
        queue_id=filters["queue"].pk if filters.get("queue") else None,
        librarian_id=filters["librarian"].pk if filters.get("librarian") else None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        text=filters.get("text", ""),
        resolution=filters.get("resolution", ""),
        read_level=filters.get("read_level"),
        tag=filters.get("tag", ""),
        wrapup=filters.get("wrapup", ""),
        extras={extra.name: filters.get(extra.name) for extra in history_filters()},
    )
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("fragment", None)
    return render(
        request,
        _template(request, "list"),
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def history_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    librarian = _librarian(request)
    try:
        session = session_for_librarian(session_id=session_id, librarian=librarian)
    except ChatError:
        raise Http404("There is no such chat session in your queues.") from None
    lines = session_lines(session)
    # Who else was in it, and when: librarians who joined, supervisors who watched.
    participants = session.participants.select_related("librarian").order_by("started_at")
    return render(
        request,
        _template(request, "detail"),
        {
            "session": session,
            "lines": lines,
            "participants": participants,
            # Staff only: each holder's wrap-up, and the follow-up it put on a list.
            "wrapups": session_wrapups(session),
            "follow_up": session_follow_up(session),
            "facts": session_facts(session),
        },
    )


@login_required
def im_history_list(request: HttpRequest) -> HttpResponse:
    """The librarian's own IM sessions, newest first (open ones too)."""
    librarian = _librarian(request)
    sessions = im_history(librarian)
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, _template(request, "im_list"), {"page": page, "me": librarian})


@login_required
def im_history_detail(request: HttpRequest, im_id: int) -> HttpResponse:
    """One IM session, readable by its two librarians only."""
    librarian = _librarian(request)
    try:
        im = im_for(im_id=im_id, librarian=librarian)
    except ChatError:
        raise Http404("There is no such IM session of yours.") from None
    lines = im.messages.order_by("seq")
    return render(
        request, _template(request, "im_detail"), {"im": im, "lines": lines, "me": librarian}
    )

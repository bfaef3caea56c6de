"""The console's wrap-up: the form of a chat the librarian held, and their
list of chats still to wrap up.

Pages rendered whole, or as the fragment the console shows in a chat's pane
or its Wrap-up tab (``?fragment=1``), as Questions and Chat History are.
Save and Skip post the one form; a refusal comes back as the form with its
message and everything typed, with 400 (bad input), 403 (not theirs) or 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.models import Librarian
from accounts.selectors import librarian_or_404
from chat.models import ChatSession, Hold
from core.errors import ChatError
from core.fragments import fragment_template
from questions.follow_ups import wrapup_submit
from wrapup.models import COMMENT_MAX_CHARS, Wrapup
from wrapup.read_scale import READ_LEVELS
from wrapup.selectors import codes_for, tags_for, wrapup_of, wrapups_due
from wrapup.services import wrapup_skip

PAGE_SIZE = 25
PLACES = {"pane", "tab"}
STATUS = {"not_found": 404, "not_held": 403, "still_held": 409, "already_done": 409}


def _librarian(request: HttpRequest) -> Librarian:
    return librarian_or_404(request.user, "Only librarians wrap chats up.")


def _template(request: HttpRequest, name: str) -> str:
    return fragment_template(request, "console", name)


@never_cache
@login_required
def wrapup_list_view(request: HttpRequest) -> HttpResponse:
    """The chats the librarian held and has not wrapped up, latest first."""
    librarian = _librarian(request)
    page = Paginator(wrapups_due(librarian=librarian), PAGE_SIZE).get_page(request.GET.get("page"))
    skipped = set(
        Wrapup.objects.filter(
            librarian=librarian, state=Wrapup.State.SKIPPED, session__in=list(page.object_list)
        ).values_list("session_id", flat=True)
    )
    return render(request, _template(request, "wrapup_list"), {"page": page, "skipped": skipped})


@never_cache
@login_required
def wrapup_view(request: HttpRequest, session_id: int) -> HttpResponse:
    """GET: the form (what was saved before, if anything). POST: Save, or Skip."""
    librarian = _librarian(request)
    if request.method != "POST":
        return _form(request, librarian, session_id)
    typed = {
        "resolution": request.POST.get("resolution", ""),
        "read_level": request.POST.get("read_level", ""),
        "tags": ",".join(request.POST.getlist("tags")),
        "comment": request.POST.get("comment", ""),
    }
    try:
        if request.POST.get("action") == "skip":
            wrapup_skip(session_id=session_id, librarian=librarian)
            message = "Skipped for now: the chat stays on your Wrap-up list."
        else:
            wrapup_submit(
                session_id=session_id,
                librarian=librarian,
                resolution=typed["resolution"],
                read_level=typed["read_level"],
                tags=typed["tags"].split(","),
                comment=typed["comment"],
            )
            message = "Wrap-up saved."
    except ChatError as refusal:
        # Not theirs, or no such chat: _form says so (403, 404) without the form.
        return _form(
            request,
            librarian,
            session_id,
            error=refusal,
            typed=typed,
            status=STATUS.get(refusal.code, 400),
        )
    if not request.GET.get("fragment"):
        return redirect("wrapup", session_id=session_id)
    return _form(request, librarian, session_id, saved=message)


def _form(
    request: HttpRequest,
    librarian: Librarian,
    session_id: int,
    *,
    error: ChatError | None = None,
    typed: dict[str, str] | None = None,
    saved: str = "",
    status: int = 200,
) -> HttpResponse:
    session = ChatSession.objects.select_related("queue", "library").filter(pk=session_id).first()
    hold = (
        Hold.objects.filter(session=session, librarian=librarian).order_by("-ended_at").first()
        if session is not None
        else None
    )
    if session is None or hold is None:
        return render(
            request,
            _template(request, "wrapup_refused"),
            {"message": "You did not hold this chat session: only its librarian wraps it up."},
            status=403 if session is not None else 404,
        )
    wrapup = wrapup_of(session=session, librarian=librarian)
    if typed is None:
        typed = {
            "resolution": str(wrapup.resolution_id or "") if wrapup else "",
            "read_level": str(wrapup.read_level or "") if wrapup else "",
            "tags": ", ".join(tag.name for tag in wrapup.tags.all()) if wrapup else "",
            "comment": wrapup.comment if wrapup else "",
        }
    codes = list(codes_for(librarian))
    if wrapup and wrapup.resolution and wrapup.resolution not in codes:
        codes.append(wrapup.resolution)  # retired since, but still this wrap-up's
    # Where the form is shown (a chat's pane, the Wrap-up tab, its own page):
    # its ids say so, for the same chat's form may be in the pane and the tab at once.
    place = request.POST.get("in") or request.GET.get("in") or ""
    context = {
        "place": place if place in PLACES else "page",
        "session": session,
        "hold": hold,
        "wrapup": wrapup,
        "codes": codes,
        "tags": tags_for(librarian),
        "levels": READ_LEVELS.items(),
        "typed": typed,
        "error": error,
        "saved": saved,
        "comment_max": COMMENT_MAX_CHARS,
    }
    return render(request, _template(request, "wrapup"), context, status=status)

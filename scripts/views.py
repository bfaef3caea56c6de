"""The console's Scripts: a librarian's personal scripts in Settings, and the
list the reply box opens.

Each page renders whole, or only its content when the console asks for a
fragment (``?fragment=1``) to show inside its Settings tab, as Questions
does. Add, Save and Delete are forms posted to their own URL; a refusal
comes back as the form with what was typed and the message at its field
(400), a success as the list (a fragment) or a redirect to it.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Librarian
from accounts.selectors import librarian_of, librarian_or_404
from core.errors import ChatError
from core.fragments import fragment_template, is_fragment
from scripts.forms import ScriptForm
from scripts.models import Script
from scripts.selectors import (
    library_scripts_of,
    personal_script_for,
    personal_scripts_of,
    picker_payload,
    saved_pages_for,
)
from scripts.services import script_create, script_delete, script_update


def _librarian(request: HttpRequest) -> Librarian:
    return librarian_or_404(request.user, "Only librarians have scripts.")


def _mine(librarian: Librarian, script_id: int) -> Script:
    try:
        return personal_script_for(librarian=librarian, script_id=script_id)
    except ChatError as refusal:
        raise Http404(refusal.message) from None


def _render(
    request: HttpRequest,
    librarian: Librarian,
    *,
    form: ScriptForm | None = None,
    editing: Script | None = None,
    deleting: Script | None = None,
    done: str = "",
    status: int = 200,
) -> HttpResponse:
    fragment = is_fragment(request)
    context = {
        "me": librarian,
        "personal": personal_scripts_of(librarian=librarian),
        "library_scripts": library_scripts_of(librarian=librarian),
        "pages": saved_pages_for(librarian=librarian),
        "form": (form or ScriptForm()).describe(),
        "editing": editing,
        "deleting": deleting,
        "done": done,
        "fragment": fragment,
    }
    name = fragment_template(request, "scripts", "list")
    return render(request, name, context, status=status)


def _after(request: HttpRequest, librarian: Librarian, done: str) -> HttpResponse:
    if request.GET.get("fragment"):
        return _render(request, librarian, done=done)
    return redirect("script-list")


@never_cache
@login_required
@require_GET
def script_list_view(request: HttpRequest) -> HttpResponse:
    return _render(request, _librarian(request))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def script_add_view(request: HttpRequest) -> HttpResponse:
    librarian = _librarian(request)
    if request.method != "POST":
        return _render(request, librarian)
    form = ScriptForm(request.POST)
    if form.is_valid():  # each field's rule; then the service's, and whether the shortcut is free
        try:
            script = script_create(librarian=librarian, **form.cleaned_data)
        except ChatError as refusal:
            form.refuse(refusal)
        else:
            return _after(request, librarian, f"Script “{script.title}” added.")
    return _render(request, librarian, form=form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def script_edit_view(request: HttpRequest, script_id: int) -> HttpResponse:
    librarian = _librarian(request)
    script = _mine(librarian, script_id)
    if request.method != "POST":
        form = ScriptForm(
            initial={"title": script.title, "text": script.text, "shortcut": script.shortcut}
        )
        return _render(request, librarian, form=form, editing=script)
    form = ScriptForm(request.POST)
    if form.is_valid():
        try:
            saved = script_update(librarian=librarian, script_id=script_id, **form.cleaned_data)
        except ChatError as refusal:
            if refusal.code == "not_found":
                raise Http404(refusal.message) from None
            form.refuse(refusal)
        else:
            return _after(request, librarian, f"Script “{saved.title}” saved.")
    return _render(request, librarian, form=form, editing=script, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def script_delete_view(request: HttpRequest, script_id: int) -> HttpResponse:
    librarian = _librarian(request)
    script = _mine(librarian, script_id)
    if request.method != "POST":
        return _render(request, librarian, deleting=script)
    try:
        script_delete(librarian=librarian, script_id=script_id)
    except ChatError as refusal:
        raise Http404(refusal.message) from None
    return _after(request, librarian, f"Script “{script.title}” deleted.")


@never_cache
@login_required
@require_GET
def script_picker_view(request: HttpRequest) -> JsonResponse:
    """The reply box's list: the librarian's scripts and their library's, and
    the library's saved pages, read when the list opens."""
    librarian = librarian_of(request.user)
    if librarian is None:
        return JsonResponse({"detail": "Only librarians have scripts."}, status=403)
    return JsonResponse(picker_payload(librarian=librarian))

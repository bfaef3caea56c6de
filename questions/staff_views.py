"""The console's Questions: the follow-up questions of the librarian's queues.

Each view renders a whole page, or only its content when the console asks
for a fragment (``?fragment=1``) to show inside its Questions tab, as Chat
History does. Take, Answer and Note are forms posted to their own URL; a
fragment request gets the question's detail back (with the refusal, if
any), a plain one a redirect to it.
"""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import Librarian
from accounts.selectors import librarian_or_404
from core.errors import ChatError
from core.fragments import fragment_template, is_fragment
from questions.follow_ups import question_close
from questions.forms import AnswerForm, NoteForm
from questions.models import Question
from questions.selectors import LISTS, question_for_librarian, question_list
from questions.services import question_answer, question_note, question_take

PAGE_SIZE = 25
STATUS = {"not_found": 404, "invalid_answer": 400, "invalid_note": 400, "no_email": 400}


def _librarian(request: HttpRequest) -> Librarian:
    return librarian_or_404(request.user, "Only librarians have Questions.")


def _template(request: HttpRequest, name: str) -> str:
    return fragment_template(request, "questions", name)


@never_cache
@login_required
def question_list_view(request: HttpRequest) -> HttpResponse:
    librarian = _librarian(request)
    state = request.GET.get("state", "")
    scope = request.GET.get("list", "")
    scope = scope if scope in LISTS else ""
    questions = question_list(librarian=librarian, state=state, scope=scope)
    page = Paginator(questions, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "states": Question.State.choices,
        "scope": scope,
        "lists": LISTS.items(),
        "me": librarian,
    }
    return render(request, _template(request, "list"), context)


@never_cache
@login_required
def question_detail_view(request: HttpRequest, question_id: int) -> HttpResponse:
    librarian = _librarian(request)
    return _detail(request, librarian, question_id)


def _detail(
    request: HttpRequest,
    librarian: Librarian,
    question_id: int,
    *,
    error: str = "",
    answer_form: AnswerForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        question = question_for_librarian(question_id=question_id, librarian=librarian)
    except ChatError:
        raise Http404("There is no such question in your queues.") from None
    context = {
        "question": question,
        "notes": question.notes.order_by("created_at", "pk"),
        "me": librarian,
        "error": error,
        "answer_form": answer_form or AnswerForm(),
        "note_form": note_form or NoteForm(),
    }
    return render(request, _template(request, "detail"), context, status=status)


def _act(
    request: HttpRequest, question_id: int, move: Callable[[Librarian], object], **forms: object
) -> HttpResponse:
    librarian = _librarian(request)
    try:
        move(librarian)
    except ChatError as refusal:
        if refusal.code == "not_found":
            raise Http404(refusal.message) from None
        return _detail(
            request,
            librarian,
            question_id,
            error=refusal.message,
            status=STATUS.get(refusal.code, 409),
            **forms,  # type: ignore[arg-type]
        )
    if is_fragment(request):
        return _detail(request, librarian, question_id)
    return redirect("question-detail", question_id=question_id)


@require_POST
@login_required
def question_take_view(request: HttpRequest, question_id: int) -> HttpResponse:
    return _act(
        request,
        question_id,
        lambda librarian: question_take(question_id=question_id, librarian=librarian),
    )


@require_POST
@login_required
def question_answer_view(request: HttpRequest, question_id: int) -> HttpResponse:
    form = AnswerForm(request.POST)
    text = form.cleaned_data["answer"] if form.is_valid() else ""
    return _act(
        request,
        question_id,
        lambda librarian: question_answer(question_id=question_id, librarian=librarian, text=text),
        answer_form=form,
    )


@require_POST
@login_required
def question_note_view(request: HttpRequest, question_id: int) -> HttpResponse:
    form = NoteForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    return _act(
        request,
        question_id,
        lambda librarian: question_note(question_id=question_id, librarian=librarian, text=text),
        note_form=form,
    )


@require_POST
@login_required
def question_close_view(request: HttpRequest, question_id: int) -> HttpResponse:
    return _act(
        request,
        question_id,
        lambda librarian: question_close(question_id=question_id, librarian=librarian),
    )

"""The patron's language (issue 15, point 5): the pages, the switcher, the
session's language, its system lines, the socket's errors, the transcript, and what
issue 15 added: the hours, the follow-up questions (pages and emails), the widget.

Each patron page and the transcript email are rendered in English and in
Spanish; a text the same in both (names and numbers aside) is a text nobody
marked for translation, and fails here.
"""

import re
from datetime import UTC, datetime, time
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import formats, translation

from accounts.models import LibraryOpeningPeriod, LibrarySpecialDay
from chat import availability, sessions
from chat.models import ChatSession, Message
from questions import services as questions
from questions.delivery import question_message
from questions.models import Question, QuestionEmail
from queues.models import Queue
from shifts import services as shifts
from tests.conftest import DEFAULT_QUESTION
from tests.i18n import email_texts, page_texts, untranslated
from transcripts.email import transcript_render
from widget.models import Widget

pytestmark = pytest.mark.django_db


def _names(world: Any) -> list[str]:
    """What the pages show that is data, not text to translate."""
    names = ["Dana", "Closed Desk", "dana@example.org"]
    for queue in Queue.objects.all():
        names += [queue.name, queue.description]
    for library in (world.riverside_library, world.hillcrest_library):
        names += [library.name, library.website]
    names += [world.alice.display_name, world.bob.display_name]
    return [name for name in names if name]


def _get(path: str, language: str, **kwargs: Any) -> str:
    response = Client(raise_request_exception=False).get(
        path, HTTP_ACCEPT_LANGUAGE=language, **kwargs
    )
    assert response.status_code in (200, 404, 500, 503), (path, response.status_code)
    return response.content.decode()


def _session_in(language: str, ask: Any, **kwargs: Any) -> ChatSession:
    with translation.override(language):
        session = ask(**kwargs)
    session.language = language
    ChatSession.objects.filter(pk=session.pk).update(language=language)
    return session


def _patron_pages(language: str, world: Any, ask: Any) -> dict[str, str]:
    session = _session_in(language, ask)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    return {
        "ask list": _get("/ask/", language),
        "ask form": _get("/ask/riverside/", language),
        "ask form, cooperative": _get("/ask/cooperative/", language),
        "ask form with errors": client.post(
            "/ask/hillcrest/", {"patron_name": ""}
        ).content.decode(),
        "queue closed": _get("/ask/closed-desk/", language),
        "chat": _get(f"/chat/{session.token}/", language),
        "not found": _get("/chat/no-such-token-aaaaaaaaaaaaaaaaaaaaaaaa/", language),
    }


def test_no_english_is_left_on_the_spanish_patron_pages(world, staffed, ask):
    Queue.objects.create(slug="closed-desk", name="Closed Desk", is_open=False)
    english = _patron_pages("en", world, ask)
    spanish = _patron_pages("es", world, ask)
    for page, html in spanish.items():
        assert '<html lang="es">' in html, page
        left = untranslated(page_texts(english[page]), page_texts(html), _names(world))
        assert not left, f"not marked for translation on the {page} page: {sorted(left)}"
    # Whole sentences a patron reads, as a translator wrote them.
    assert "Pregunta a un/a bibliotecario/a" in spanish["ask list"]
    assert "Este campo es requerido." in spanish["ask form with errors"]
    assert "Esperando a un/a bibliotecario/a…" in spanish["chat"]


@override_settings(ROOT_URLCONF="tests.core.error_urls")
def test_the_error_page_is_in_the_patrons_language(world):
    english, spanish = _get("/broken/", "en"), _get("/broken/", "es")
    assert "<h1>Algo ha fallado</h1>" in spanish
    assert not untranslated(page_texts(english), page_texts(spanish), [])


def test_the_transcript_email_is_in_the_sessions_language(world, ask, alice):
    emails = {}
    for language in ("en", "es"):
        session = _session_in(language, ask, email="dana@example.org")
        sessions.session_accept(session_id=session.pk, librarian=alice)
        session.refresh_from_db()
        sessions.session_end_by_patron(session=session)
        emails[language] = transcript_render(session)
    (subject_en, body_en), (subject_es, body_es) = emails["en"], emails["es"]
    assert subject_en == "Your chat with Riverside Public Library: transcript"
    assert subject_es == "Tu chat con Riverside Public Library: transcripción"
    assert body_es.startswith("Hola, Dana:")
    with translation.override("es"):
        assert formats.date_format(session.created_at, "DATE_FORMAT") in body_es
    # The lines the system wrote are in Spanish too, for patron and transcript.
    assert "* Alice se ha unido al chat." in body_es
    assert "* El usuario ha terminado la sesión de chat" in body_es
    left = untranslated(email_texts(body_en), email_texts(body_es), _names(world))
    # A line typed by a person is theirs, never translated.
    left = {text for text in left if not re.match(r"\[[\d:]+\] Dana: ", text)}
    assert not left, f"not marked for translation in the transcript: {sorted(left)}"


def test_the_browsers_language_is_used_and_lang_overrides_it_on_every_link(world, staffed):
    english = _get("/ask/", "en-GB,en;q=0.8")
    assert '<html lang="en">' in english
    assert '<html lang="es">' in _get("/ask/", "es-MX,es;q=0.9,en;q=0.5")
    assert '<html lang="en">' in _get("/ask/", "de-DE"), "a language we don't speak: English"

    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    response = client.get("/ask/?lang=fr")
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Demandez à un bibliothécaire" in page
    # Carried on the page's own links: a browser that keeps no cookie keeps French.
    assert 'href="/ask/riverside/?lang=fr"' in page
    # The switcher: this page in each language, named in itself, the current one marked.
    assert '<a href="?lang=es" lang="es" hreflang="es">Español</a>' in page
    assert '<a href="?lang=fr" lang="fr" hreflang="fr" aria-current="true">Français</a>' in page
    # Where cookies are kept, the choice holds on a URL without the parameter too.
    assert response.cookies["django_language"].value == "fr"
    assert '<html lang="fr">' in client.get("/ask/riverside/").content.decode()
    assert '<html lang="en">' in _get("/ask/?lang=xx", "en"), "an unknown one changes nothing"


def test_the_switcher_keeps_the_pages_other_parameters(world, staffed):
    page = _get("/ask/riverside/?lang=es&from=web", "en")
    assert 'href="?lang=fr&amp;from=web"' in page or 'href="?from=web&amp;lang=fr"' in page


def test_staff_pages_stay_english_whatever_the_browser_asks(world):
    for path in ["/login/", "/admin/login/", "/login/?lang=es"]:
        page = _get(path, "es")
        assert '<html lang="en"' in page, path
        assert 'class="language-switcher"' not in page, path


def test_the_session_records_the_language_the_patron_asked_in(world, staffed):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        "/ask/riverside/?lang=es",
        {
            "patron_name": "Dana",
            "library": world.riverside_library.pk,
            "question": "¿Tienen libros en español?",
        },
    )
    session = ChatSession.objects.get()
    assert session.language == "es"
    assert response["Location"] == f"/chat/{session.token}/?lang=es"
    # The chat page speaks the session's language, whatever the browser says.
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/chat/{session.token}/").content.decode()
    assert '<html lang="es">' in page
    assert 'src="/jsi18n/?lang=es"' in page
    # Another language chosen on the chat page is the session's from now on.
    Client().get(f"/chat/{session.token}/?lang=fr")
    session.refresh_from_db()
    assert session.language == "fr"


def test_system_lines_are_stored_in_the_patrons_language(world, ask, alice, bob):
    session = _session_in("es", ask)
    sessions.session_accept(session_id=session.pk, librarian=alice)
    sessions.session_end_by_librarian(session_id=session.pk, librarian=alice)
    system = list(session.messages.filter(kind=Message.Kind.SYSTEM).values_list("text", flat=True))
    assert system == [
        "Alice se ha unido al chat.",
        "El/la bibliotecario/a ha terminado la sesión de chat",
    ]
    english = ask()
    assert english.language == "en"


def test_the_ask_forms_refusals_are_in_the_patrons_language(world, staffed, settings):
    settings.ASK_LIMIT_PER_HOUR = 1
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    form = {"patron_name": "Dana", "library": world.riverside_library.pk, "question": "¿Hola?"}
    client.post("/ask/riverside/", form)
    again = client.post("/ask/riverside/", form)
    assert again.status_code == 429
    assert "Desde tu conexión se han hecho demasiadas solicitudes de chat" in again.content.decode()


def test_the_script_catalogue_is_the_pages_language(world):
    spanish = Client().get("/jsi18n/?lang=es")
    assert spanish.status_code == 200
    # JSON in a script: "…" is written \u2026.
    assert "Conectando" in spanish.content.decode()
    assert "seleccionado" not in spanish.content.decode(), "only our texts, not the admin's"
    assert "django_language" not in spanish.cookies, "the catalogue chooses nothing"
    assert "Reconnexion" in Client(HTTP_ACCEPT_LANGUAGE="fr").get("/jsi18n/").content.decode()


def test_the_patron_api_says_not_found_in_the_patrons_language(world):
    response = Client(HTTP_ACCEPT_LANGUAGE="es").get(
        "/api/v1/chat/no-such-token-aaaaaaaaaaaaaaaaaaaaaaaa/"
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "No hay ninguna sesión de chat con este identificador."


# --- Hours, follow-up questions and the widget (issue 15, points 1–3) ----------

# Riverside keeps Monday–Friday 9:00–21:00 in America/Chicago (as in
# tests/chat/test_pages_hours.py): Friday 4 December 2026 at 21:30 there it
# is closed until Tuesday (Monday a holiday); at noon it is open.
FRIDAY_NIGHT = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)
FRIDAY_NOON = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
QUESTION = "Do you have the 1920 county atlas in the local history room?"
ANSWER = "Yes: ask at the desk of the local history room."
# What a library or a patron typed, the same in every language.
TYPED = ["Staff day", QUESTION, ANSWER, DEFAULT_QUESTION]


@pytest.fixture
def riverside_hours(world):
    library = world.riverside_library
    library.time_zone = "America/Chicago"
    library.website = "https://www.riverside.example.org"
    library.save()
    for weekday in range(5):
        LibraryOpeningPeriod.objects.create(
            library=library, weekday=weekday, opens=time(9), closes=time(21)
        )
    # In the week from Friday: a holiday (Monday), special hours without a
    # name (Wednesday) and with one (Thursday).
    LibrarySpecialDay.objects.create(library=library, date="2026-12-07")
    LibrarySpecialDay.objects.create(
        library=library, date="2026-12-09", opens=time(10), closes=time(14)
    )
    LibrarySpecialDay.objects.create(
        library=library, date="2026-12-10", name="Staff day", opens=time(12), closes=time(16)
    )
    Widget.objects.create(queue=world.riverside, allowed_origins="https://lib.example.org")
    shifts.monitoring_set(librarian=world.alice, queue_ids=[world.riverside.pk])


def _offline_pages(language: str, world: Any, ask: Any) -> dict[str, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = {}
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(availability.timezone, "now", lambda: FRIDAY_NIGHT)
        pages["ask list, closed by hours"] = _get("/ask/", language)
        pages["queue closed by hours: Leave a question"] = _get(
            "/ask/riverside/question/", language
        )
        leave = {
            "patron_name": "Dana",
            "library": world.riverside_library.pk,
            "question": QUESTION,
        }
        refused = client.post("/ask/riverside/question/", {**leave, "patron_email": ""})
        pages["Leave a question with errors"] = refused.content.decode()
        sent = client.post(
            "/ask/riverside/question/", {**leave, "patron_email": "dana@example.org"}
        )
        assert sent.status_code == 302, sent.content.decode()
        pages["question confirmation"] = _get(sent["Location"], language)
        pages["widget, closed by hours"] = _get("/widget/riverside/", language)
        pages["widget, unknown queue"] = _get("/widget/nowhere/", language)
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(availability.timezone, "now", lambda: FRIDAY_NOON)
        pages["widget ask form"] = _get("/widget/riverside/", language)
        session = _session_in(language, ask)
        pages["leave my question"] = _get(f"/chat/{session.token}/question/", language)
        pages["widget chat"] = _get(f"/widget/riverside/chat/{session.token}/", language)
    return pages


def test_no_english_is_left_on_the_spanish_hours_question_and_widget_pages(
    world, ask, riverside_hours, settings
):
    settings.ASK_LIMIT_PER_HOUR = 100
    english = _offline_pages("en", world, ask)
    spanish = _offline_pages("es", world, ask)
    left = {}
    for page, html in spanish.items():
        assert '<html lang="es">' in html, page
        same = untranslated(page_texts(english[page]), page_texts(html), _names(world) + TYPED)
        if same:
            left[page] = sorted(same)
    assert not left, f"not marked for translation, by page: {left}"
    closed = spanish["queue closed by hours: Leave a question"]
    assert "Vuelve a abrir el martes a las 9:00 (hora del Centro)." in closed
    assert "Horario del chat (hora del Centro)" in closed
    assert "lunes 7 de diciembre" in closed and "(festivo)" in closed
    assert "(horario especial)" in closed and "(Staff day)" in closed
    assert "Este campo es requerido." in spanish["Leave a question with errors"]
    assert "Hemos recibido tu pregunta" in spanish["question confirmation"]
    # The framed ask form's script has the page's catalogue.
    assert 'src="/jsi18n/?lang=es"' in spanish["widget ask form"]


def _question_emails(language: str, world: Any) -> dict[str, tuple[str, str]]:
    with translation.override(language):
        question = questions.question_ask(
            queue=world.riverside,
            library=world.riverside_library,
            patron_name="Dana",
            patron_email="dana@example.org",
            question=QUESTION,
        )
    questions.question_take(question_id=question.pk, librarian=world.alice)
    questions.question_answer(question_id=question.pk, librarian=world.alice, text=ANSWER)
    # Rendered (by the worker) in no language of the patron's: the question's own.
    emails = {}
    for email in QuestionEmail.objects.filter(question=question):
        message = question_message(email)
        emails[email.kind] = (str(message.subject), str(message.body))
    return emails


def test_the_question_emails_are_in_the_language_it_was_asked_in(world, riverside_hours):
    english, spanish = _question_emails("en", world), _question_emails("es", world)
    assert set(spanish) == {QuestionEmail.Kind.CONFIRMATION, QuestionEmail.Kind.ANSWER}
    assert Question.objects.filter(language="es").count() == 1
    subject, body = spanish[QuestionEmail.Kind.CONFIRMATION]
    assert subject == "Tu pregunta a Riverside Public Library: recibida"
    assert body.startswith("Hola, Dana:")
    subject, body = spanish[QuestionEmail.Kind.ANSWER]
    assert subject == "Tu pregunta a Riverside Public Library: la respuesta"
    assert "Alice, de Riverside Public Library, ha respondido a tu pregunta." in body
    assert ANSWER in body, "the librarian's answer is theirs, never translated"
    for kind, (subject_es, body_es) in spanish.items():
        subject_en, body_en = english[kind]
        texts_en = [*email_texts(body_en), subject_en]
        texts_es = [*email_texts(body_es), subject_es]
        left = untranslated(texts_en, texts_es, _names(world) + TYPED)
        assert not left, f"not marked for translation in the {kind} email: {sorted(left)}"


def test_a_question_left_from_a_chat_is_in_the_sessions_language(world, ask):
    session = _session_in("es", ask)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    # The leave page, the widget's chat and the confirmation speak the
    # session's language, whatever the browser says (as the chat page does).
    assert '<html lang="es">' in browser.get(f"/chat/{session.token}/question/").content.decode()
    widget_chat = browser.get(f"/widget/riverside/chat/{session.token}/").content.decode()
    assert '<html lang="es">' in widget_chat and 'src="/jsi18n/?lang=es"' in widget_chat
    left = browser.post(
        f"/chat/{session.token}/question/",
        {"patron_email": "dana@example.org", "question": DEFAULT_QUESTION},
    )
    question = Question.objects.get()
    assert question.language == "es"
    confirmation = browser.get(left["Location"]).content.decode()
    assert '<html lang="es">' in confirmation and "Hemos recibido tu pregunta" in confirmation
    # The switcher still chooses another.
    assert '<html lang="fr">' in browser.get(left["Location"] + "?lang=fr").content.decode()


def test_the_widget_scripts_words_come_translated_from_its_config(world, riverside_hours):
    """widget.js has no catalogue: its texts (and the button's default label)
    are the config's, in the host page's visitor's language."""
    configs = {
        language: Client(HTTP_ACCEPT_LANGUAGE=language).get("/widget/riverside/config/").json()
        for language in ("en", "es")
    }
    unknown = Client(HTTP_ACCEPT_LANGUAGE="es").get("/widget/nowhere/config/").json()
    english, spanish = configs["en"], configs["es"]
    assert spanish["label"] == "Chatea con un/a bibliotecario/a"
    assert unknown["detail"] == "Ningún servicio de chat tiene este nombre."
    assert unknown["texts"] == spanish["texts"]
    same = {key for key, text in spanish["texts"].items() if text == english["texts"][key]}
    assert not same, f"not translated in the widget's config: {sorted(same)}"

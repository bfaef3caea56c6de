"""The Spanish patron pages, as a patron whose browser speaks Spanish uses
them (and the switcher, for one whose browser doesn't and who keeps no
cookies): the ask list, the form with its errors, the chat page waiting,
chatting and ended, the transcript email, each screen axe-clean with its
``lang`` right. The librarian's console stays English."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import People, Server, pick_up, say, screenshot
from tests.browser.test_accessibility import Axe
from tests.conftest import World


@pytest.fixture
def axe(axe_source: str) -> Axe:
    return Axe(axe_source)


def test_a_spanish_browser_gets_the_spanish_patron_pages_and_transcript(
    world: World, people: People, server: Server, axe: Axe
) -> None:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.page(locale="es-ES")

    dana.goto("/ask/")
    expect(dana.locator("html")).to_have_attribute("lang", "es")
    expect(dana.get_by_role("heading", level=1)).to_have_text("Pregunta a un/a bibliotecario/a")
    axe.check(dana, "ask list, Spanish")

    dana.get_by_role("link", name="Iniciar un chat con Ask Riverside").click()
    dana.get_by_role("button", name="Preguntar").click()  # empty: the errors show
    expect(dana.locator(".field-invalid").first).to_be_visible()
    expect(dana.locator(".field-invalid .error").first).to_have_text("Este campo es requerido.")
    axe.check(dana, "chat form with errors, Spanish")

    dana.get_by_label("Nombre en el chat").fill("Dana")
    dana.get_by_label("Correo electrónico").fill("dana@example.org")
    dana.get_by_label("Tu pregunta").fill("¿Dónde están los mapas?")
    dana.get_by_role("button", name="Preguntar").click()
    dana.wait_for_url("**/chat/*/")
    expect(dana.locator("html")).to_have_attribute("lang", "es")
    # Written by the page's script: its catalogue came from /jsi18n/.
    expect(dana.locator("#waiting-title")).to_have_text("Esperando a un/a bibliotecario/a…")
    expect(dana.locator("#waited")).to_have_text(re.compile(r"^\d+ s$"))
    screenshot(dana, "patron-waiting-es")
    axe.check(dana, "patron page waiting, Spanish")

    # The console stays English; the line the system wrote is the patron's.
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    expect(alice.get_by_role("button", name="End Session")).to_be_visible()
    expect(dana.locator("#chat-with")).to_have_text(
        "Estás chateando con Alice (Riverside Public Library)."
    )
    expect(dana.locator("#log")).to_contain_text("Alice se ha unido al chat.")
    say(alice, "Los mapas están en la segunda planta.")
    expect(dana.locator("#log")).to_contain_text("segunda planta")
    axe.check(dana, "patron page chatting, Spanish")

    dana.get_by_role("button", name="Terminar sesión").click()
    expect(dana.locator("#ended-panel")).to_be_visible()
    expect(dana.locator("#ended-title")).to_have_text("Este chat ha terminado")
    expect(dana.locator("#ended-reason")).to_have_text("Has terminado el chat.")
    expect(dana.locator("#transcript-status")).to_have_text(
        "La transcripción de este chat va de camino a tu correo."
    )
    expect(dana.locator("#log")).to_contain_text("El usuario ha terminado la sesión de chat")
    axe.check(dana, "patron page ended, Spanish")
    axe.assert_clean()

    [message] = server.outbox()
    # Encoded (not ASCII), and folded by Python's email package onto a line of its own.
    assert message["Subject"].strip() == "Tu chat con Riverside Public Library: transcripción"
    body = message.get_content()
    assert body.startswith("Hola, Dana:")
    assert "Dana: ¿Dónde están los mapas?" in body
    assert "Alice: Los mapas están en la segunda planta." in body
    assert "* Alice se ha unido al chat." in body
    assert "Gracias por consultar a Riverside Public Library." in body


def test_the_switcher_keeps_the_language_without_cookies(
    world: World, people: People, axe: Axe
) -> None:
    # Someone is on: a queue nobody monitors offers "Leave a question" instead.
    people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.page()  # an English browser
    dana.goto("/ask/")
    expect(dana.locator("html")).to_have_attribute("lang", "en")
    dana.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(dana.locator("html")).to_have_attribute("lang", "es")
    expect(
        dana.get_by_role("navigation", name="Idioma").get_by_role("link", name="Español")
    ).to_have_attribute("aria-current", "true")
    axe.check(dana, "ask list, switched to Spanish")

    # A browser that keeps no cookie (a private window, a widget's iframe):
    # the links carry the language on.
    dana.context.clear_cookies()
    dana.get_by_role("link", name="Iniciar un chat con Ask Riverside").click()
    expect(dana.locator("html")).to_have_attribute("lang", "es")
    # (The form's own CSRF cookie stays: without it no form can be sent.)
    dana.get_by_label("Nombre en el chat").fill("Dana")
    dana.get_by_label("Tu pregunta").fill("¿Tienen novelas en español?")
    dana.get_by_role("button", name="Preguntar").click()
    dana.wait_for_url("**/chat/*/**")
    expect(dana.locator("#waiting-title")).to_have_text("Esperando a un/a bibliotecario/a…")

    # On the chat page too: French from now on, for the page and the session.
    dana.context.clear_cookies()
    dana.get_by_role("link", name="Français").click()
    expect(dana.locator("html")).to_have_attribute("lang", "fr")
    expect(dana.locator("#waiting-title")).to_have_text("En attente d’un bibliothécaire…")
    expect(dana.get_by_role("button", name="Terminer la session")).to_be_visible()
    axe.check(dana, "patron page waiting, French")
    axe.assert_clean()

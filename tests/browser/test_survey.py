"""The patron's rating after the chat: Dana answers the short survey by
keyboard under the end message, is thanked, finds it answered after a
reload, and Alice reads it in Chat History; the widget's chat has it too."""

from typing import Any, cast

from playwright.sync_api import Page, expect

from chat.models import ChatSession
from surveys.models import SurveyAnswer
from tests.browser.conftest import People, pick_up, say, screenshot
from tests.browser.test_accessibility import Axe
from tests.browser.test_widget import Site, _ask, _open, library_site  # noqa: F401
from tests.conftest import World

QUESTION = "Do you have large-print copies of Middlemarch?"
COMMENT = "Quick and kind, thank you!"


def tab_to(page: Page, selector: str, *, back: bool = False, most: int = 20) -> None:
    """Tab (or Shift+Tab) until the focus is on ``selector``, as a keyboard user would."""
    for _ in range(most):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"Tab never reached {selector}")


def arrow_to(page: Page, selector: str) -> None:
    """In a radio group, the arrow keys move the choice until ``selector`` is chosen."""
    for _ in range(6):
        if page.locator(selector).is_checked():
            return
        page.keyboard.press("ArrowRight")
    raise AssertionError(f"the arrows never chose {selector}")


def chat_ended(people: People, world: World) -> tuple[Page, Page]:
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.patron_asks(name="Dana", question=QUESTION)
    alice.locator("#request-dialog").get_by_role("button", name="OK").click()
    pick_up(alice, "Dana")
    say(alice, "Two copies are on the shelf at Riverside.")
    expect(dana.locator("#log")).to_contain_text("Two copies are on the shelf")
    alice.get_by_role("button", name="End Session").click()
    expect(dana.locator("#ended-reason")).to_have_text("The librarian ended the chat.")
    return alice, dana


def test_dana_rates_the_chat_by_keyboard_and_alice_reads_it(
    world: World, people: People, axe_source: str
) -> None:
    axe = Axe(axe_source)
    alice, dana = chat_ended(people, world)
    survey = dana.locator("#survey-form")
    expect(survey).to_be_visible()
    # Beside the offer to email the transcript, and it took no focus.
    expect(dana.locator("#transcript-form")).to_be_visible()
    expect(dana.locator("#ended-title")).to_be_focused()
    expect(survey.locator("fieldset legend")).to_have_text(
        ["Did you get the help you needed?", "How would you rate this chat?"]
    )
    axe.check(dana, "patron page, ended, the survey")

    # Sent with nothing chosen: refused, and said.
    tab_to(dana, "#survey-form button[type=submit]")
    dana.keyboard.press("Enter")
    expect(survey.get_by_role("alert")).to_have_text(
        "Please answer at least one question before you send the survey."
    )
    axe.check(dana, "patron page, the survey refused")

    # Back up to the first question, and answer each by keyboard.
    tab_to(dana, "input[name=helped]", back=True)
    arrow_to(dana, "input[name=helped][value=partly]")
    dana.keyboard.press("Tab")
    arrow_to(dana, "input[name=rating][value='4']")
    dana.keyboard.press("Tab")
    expect(dana.locator("#survey-comment")).to_be_focused()
    dana.keyboard.type(COMMENT)
    dana.locator("#ended-panel").scroll_into_view_if_needed()
    screenshot(dana, "patron-survey")
    tab_to(dana, "#survey-form button[type=submit]")
    dana.keyboard.press("Enter")

    thanks = dana.locator("#survey-thanks")
    expect(thanks).to_have_text("Thank you for your feedback.")
    expect(thanks).to_be_focused()
    expect(survey).to_have_count(0)
    axe.check(dana, "patron page, the survey answered")
    answer = SurveyAnswer.objects.get()
    assert (answer.helped, answer.rating, answer.comment) == ("partly", 4, COMMENT)

    # A reload finds it answered.
    dana.reload()
    expect(dana.locator("#survey-thanks")).to_have_text("Thank you for your feedback.")
    expect(dana.locator("#survey-form")).to_have_count(0)
    axe.check(dana, "patron page, ended and answered, reloaded")

    # Chat History shows it, and filters by it.
    alice.get_by_role("tab", name="Chat History").click()
    history = alice.locator("#history-root")
    history.get_by_label("Rating").select_option(label="Partly")
    history.get_by_role("button", name="Filter").click()
    # The filtered list has come (the list before it said "1 session." too): its results have focus.
    expect(history.locator("[data-history-results]")).to_be_focused()
    expect(history.locator("[role=status]")).to_have_text("1 session.")
    history.locator("tbody tr", has_text="Dana").get_by_role("link").click()
    facts = history.locator("dl")
    expect(facts.locator("dt", has_text="Patron's rating")).to_have_count(1)
    expect(facts.locator('dt:has-text("Patron\'s rating") + dd')).to_have_text(
        f"Partly · 4/5 · {COMMENT}"
    )
    axe.check(alice, "Chat History, a session with the patron's rating")
    axe.assert_clean()


def test_a_chat_nobody_answered_offers_no_survey(world: World, people: People) -> None:
    people.console(world.alice, monitor=["Ask Riverside"])  # on shift, never picks up
    dana = people.patron_asks(name="Dana", question=QUESTION)
    dana.get_by_role("button", name="End Session").click()
    expect(dana.locator("#ended-reason")).to_have_text("You ended the chat.")
    dana.reload()
    expect(dana.locator("#ended-reason")).to_have_text("You ended the chat.")
    expect(dana.locator("#survey-box")).to_be_hidden()
    assert ChatSession.objects.get().state == "closed"


def test_the_widgets_chat_has_the_survey_too(
    world: World,
    people: People,
    library_site: Site,  # noqa: F811
    axe_source: str,
) -> None:
    axe = Axe(axe_source)
    alice = people.console(world.alice, monitor=["Ask Riverside"])
    dana = people.page()
    dana.goto(library_site.url + "/")
    frame = _open(dana)
    _ask(frame)
    pick_up(alice, "Dana")
    say(alice, "Two copies are on the shelf.")
    expect(frame.locator("#log")).to_contain_text("Two copies are on the shelf.")
    alice.get_by_role("button", name="End Session").click()
    survey = frame.locator("#survey-form")
    expect(survey).to_be_visible()
    inner = cast(Any, dana.frames[1])
    axe.check(inner, "the framed chat, ended, the survey")
    # By keyboard inside the frame: a choice by the arrows, then Enter on Send.
    frame.locator("input[name=rating]").first.focus()
    for _ in range(4):
        frame.locator("input[name=rating]:focus").press("ArrowRight")
    expect(frame.locator("input[name=rating][value='5']")).to_be_checked()
    frame.get_by_role("button", name="Send my answer").press("Enter")
    expect(frame.locator("#survey-thanks")).to_have_text("Thank you for your feedback.")
    axe.check(inner, "the framed chat, the survey answered")
    assert SurveyAnswer.objects.get().rating == 5
    axe.assert_clean()

"""``manage.py seed_demo_scripts``: the demo libraries' scripts and saved
pages, and one personal script of Alice's (run after ``seed_demo``).

Idempotent: each script is known by its library (or owner) and shortcut,
each page by its library and title, and is set to the demo's text again.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Librarian, Library
from scripts.models import SavedPage, Script

LIBRARY_SCRIPTS: dict[str, list[tuple[str, str, str]]] = {
    # library slug: [(shortcut, title, text)]
    "riverside-public": [
        (
            "hi",
            "Greeting",
            "Hi {patron}, this is {librarian} at {library}. How can I help you today?",
        ),
        (
            "hours",
            "Opening hours",
            "{library} is open Monday to Friday 9:00-21:00 and Saturday 10:00-17:00 "
            "(Central Time), closed on Sundays.",
        ),
        (
            "card",
            "Library card",
            "Library cards are free to residents of Riverside County: bring a photo ID and "
            "proof of address to any branch, {patron}, and you can borrow the same day.",
        ),
        ("else", "Anything else?", "Is there anything else I can help you with, {patron}?"),
        ("bye", "Goodbye", "Thank you for chatting with {library}, {patron}. Goodbye!"),
    ],
    "hillcrest-college": [
        (
            "hi",
            "Greeting",
            "Hi {patron}, this is {librarian} at {library}. What are you researching?",
        ),
        (
            "proxy",
            "Databases off campus",
            "Off campus, the databases ask for your college ID and password (the library's "
            "proxy). Alumni and visitors can use them in the library only.",
        ),
        (
            "cite",
            "Citation help",
            "Our citation guides cover APA, MLA and Chicago; the writing centre can also "
            "check a reference list with you.",
        ),
    ],
}

SAVED_PAGES: dict[str, list[tuple[str, str]]] = {
    "riverside-public": [
        ("Catalogue", "https://library.example.org/catalogue"),
        ("Opening hours", "https://library.example.org/hours"),
        ("Get a library card", "https://library.example.org/card"),
    ],
    "hillcrest-college": [
        ("Databases A-Z", "https://lib.hillcrest.example.edu/databases"),
        ("Citation guides", "https://lib.hillcrest.example.edu/cite"),
    ],
}

# (username, shortcut, title, text)
PERSONAL_SCRIPTS = [
    ("alice", "wait", "One moment", "Let me check that for you, {patron}: one moment, please."),
]


class Command(BaseCommand):
    help = "Create or refresh the demo libraries' scripts and saved pages, and Alice's own."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when there are scripts already (what `make run` uses).",
        )

    @transaction.atomic
    def handle(self, *args: Any, if_empty: bool, **options: Any) -> None:
        if if_empty and Script.objects.exists():
            self.stdout.write("There are scripts already: demo scripts not loaded.")
            return
        libraries = {lib.slug: lib for lib in Library.objects.filter(slug__in=LIBRARY_SCRIPTS)}
        if len(libraries) < len(LIBRARY_SCRIPTS):
            raise CommandError("The demo libraries are missing: run seed_demo first.")
        for slug, scripts in LIBRARY_SCRIPTS.items():
            for shortcut, title, text in scripts:
                Script.objects.update_or_create(
                    library=libraries[slug],
                    shortcut=shortcut,
                    defaults={"title": title, "text": text},
                )
        for slug, pages in SAVED_PAGES.items():
            for title, url in pages:
                SavedPage.objects.update_or_create(
                    library=libraries[slug], title=title, defaults={"url": url}
                )
        for username, shortcut, title, text in PERSONAL_SCRIPTS:
            owner = Librarian.objects.filter(user__username=username).first()
            if owner is not None:
                Script.objects.update_or_create(
                    owner=owner, shortcut=shortcut, defaults={"title": title, "text": text}
                )
        count = sum(len(s) for s in LIBRARY_SCRIPTS.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo scripts ready: {count} library scripts, "
                f"{sum(len(p) for p in SAVED_PAGES.values())} saved pages, and Alice's own."
            )
        )

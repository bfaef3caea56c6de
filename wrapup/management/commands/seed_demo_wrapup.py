"""The demo's subject tags for the wrap-up (after ``seed_demo``): each demo
library gets a short list to pick from. Run again, it adds what is missing."""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand

from accounts.models import Library
from wrapup.models import SubjectTag
from wrapup.services import codes_default

SUBJECTS = [
    "Catalog and holdings",
    "Databases",
    "Genealogy",
    "Government documents",
    "Interlibrary loan",
    "Library card and account",
    "Local history",
    "Citation help",
    "Technology help",
    "Hours and directions",
]


class Command(BaseCommand):
    help = "Give every library the demo's subject tags (and the default resolution codes)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any subject tag exists."
        )

    def handle(self, *args: object, if_empty: bool, **options: object) -> None:
        if if_empty and SubjectTag.objects.exists():
            self.stdout.write("Subject tags exist already: demo tags not loaded.")
            return
        made = 0
        for library in Library.objects.all():
            codes_default(library=library)
            for name in SUBJECTS:
                _, created = SubjectTag.objects.get_or_create(library=library, name=name)
                made += created
        self.stdout.write(f"Demo subject tags: {made} added.")

"""A new library gets the default resolution codes, to edit in the admin."""

from typing import Any

from django.db.models.signals import post_save

from accounts.models import Library

# QuestionPoint's five, in its order: (label, follow-up).
DEFAULT_CODES: list[tuple[str, str]] = [
    ("Answered", ""),
    ("Follow-up by patron's library", "library"),
    ("Follow-up by me", "me"),
    ("Practice", ""),
    ("Lost call", ""),
]


def library_created(
    sender: Any, instance: Library, created: bool, raw: bool = False, **_: Any
) -> None:
    if created and not raw:
        from wrapup.services import codes_default

        codes_default(library=instance)


def receivers_connect() -> None:
    post_save.connect(library_created, sender=Library, dispatch_uid="wrapup_library_created")

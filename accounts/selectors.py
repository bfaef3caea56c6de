"""Reads about librarians."""

from typing import Any

from accounts.models import Librarian


def librarian_of(user: Any) -> Librarian | None:
    """The librarian profile of a logged-in, active user; None for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Librarian.objects.filter(user=user).select_related("library").first()

"""Reads about librarians."""

from typing import Any

from django.http import Http404

from accounts.models import Librarian


def librarian_or_404(user: Any, why: str) -> Librarian:
    """The librarian profile of the user, or a 404 saying ``why`` (a staff
    page of librarians only: anyone else finds nothing there)."""
    librarian = librarian_of(user)
    if librarian is None:
        raise Http404(why)
    return librarian


def librarian_of(user: Any) -> Librarian | None:
    """The librarian profile of a logged-in, active user; None for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Librarian.objects.filter(user=user).select_related("library").first()

"""Reads about who is on shift."""

from django.db.models import QuerySet

from accounts.models import Librarian
from chat.roster import with_shift_figures
from queues.selectors import others_on_shift


def librarians_on_shift_for(librarian: Librarian) -> QuerySet[Librarian]:
    """The Librarians list: the others monitoring any queue this librarian
    monitors, with their figures."""
    return with_shift_figures(others_on_shift(librarian)).order_by("display_name")

"""Who is on shift: the consoles librarians have open."""

from django.db import models


class ConsolePresence(models.Model):
    """One open (or just closed) librarian console, for the Librarians list.

    A librarian is present while any of their rows was seen within the grace
    period: an open console refreshes ``last_seen`` by heartbeat; a closed one
    keeps its row for the grace period, so a page reload is not a departure;
    a console whose server process died simply stops being refreshed.
    """

    librarian = models.ForeignKey(
        "accounts.Librarian", on_delete=models.CASCADE, related_name="consoles"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)
    closed = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The worker's sweep: has any console of this librarian been seen since?
            models.Index(fields=["librarian", "last_seen"], name="console_librarian_seen")
        ]

    def __str__(self) -> str:
        return f"console of {self.librarian_id} ({'closed' if self.closed else 'open'})"

from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Least


class MessageQuerySet(models.QuerySet["Message"]):
    def patron_visible(self) -> "MessageQuerySet":
        """The only lines a patron may ever read, by any path.

        Every patron-facing reader (socket snapshot, page, transcript email,
        API) goes through this method; Librarian Notes are never in it.
        """
        return self.filter(visibility=Message.Visibility.PATRON)


class Message(models.Model):
    """One line said in a patron chat session, in order.

    ``seq`` numbers the lines of one session 1, 2, 3 … with no gaps, assigned
    by the server when the line is stored; ``patron_seq`` numbers the
    patron-visible ones alone. Clients resume and detect gaps by them.
    """

    class Kind(models.TextChoices):
        PATRON = "patron", "Patron"
        LIBRARIAN = "librarian", "Librarian"
        SYSTEM = "system", "System"
        NOTE = "note", "Librarian Note"

    class Visibility(models.TextChoices):
        PATRON = "patron", "Patron and staff"
        STAFF = "staff", "Staff only (Librarian Note)"

    session = models.ForeignKey(
        "queues.ChatSession", on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    # The patron's own numbering: 1, 2, 3 … over patron-visible lines only,
    # so a patron sees no gaps where notes are (and can't count them).
    patron_seq = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    author = models.ForeignKey(
        "accounts.Librarian",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    # The name shown with the line, kept as it was when said.
    author_name = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The sender's id for the line: a retry with the same id is the same line.
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL = none

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="unique_message_seq"),
            models.UniqueConstraint(
                fields=["session", "patron_seq"],
                condition=Q(patron_seq__isnull=False),
                name="unique_message_patron_seq",
            ),
            models.UniqueConstraint(
                fields=["session", "client_id"],
                condition=Q(client_id__isnull=False),
                name="unique_message_client_id",
            ),
            models.CheckConstraint(
                name="note_is_staff_only",
                condition=~Q(kind="note") | Q(visibility="staff"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.session_id}.{self.seq} {self.get_kind_display()}"


class ImSession(models.Model):
    """A private conversation between two librarians (the IM tab).

    Open until either side ends it. Lines are :class:`ImMessage`, numbered
    per IM session like a chat session's lines.
    """

    initiator = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, related_name="ims_started"
    )
    recipient = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, related_name="ims_received"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_seq = models.PositiveIntegerField(default=0)
    # The patron session this IM is about while a transfer is arranged: its
    # lines are copied into that session's Chat History as Librarian Notes.
    about_session = models.ForeignKey(
        "queues.ChatSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The last sequence number each side has read: unread counts survive a reload.
    initiator_read_seq = models.PositiveIntegerField(default=0)
    recipient_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "IM session"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="im_between_two_people", condition=~Q(initiator=models.F("recipient"))
            ),
            # Two librarians opening an IM to each other at the same moment
            # get one open session, not two.
            models.UniqueConstraint(
                Least("initiator", "recipient"),
                Greatest("initiator", "recipient"),
                condition=Q(ended_at__isnull=True),
                name="one_open_im_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"IM #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def other(self, librarian_id: int) -> int:
        return self.recipient_id if librarian_id == self.initiator_id else self.initiator_id


class ImMessage(models.Model):
    """One line of an IM session. Never shown to a patron: there is no patron here."""

    im = models.ForeignKey(ImSession, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    author = models.ForeignKey("accounts.Librarian", on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=100)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL = none

    class Meta:
        verbose_name = "IM line"
        ordering = ["im", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["im", "seq"], name="unique_im_seq"),
            models.UniqueConstraint(
                fields=["im", "client_id"],
                condition=Q(client_id__isnull=False),
                name="unique_im_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"IM #{self.im_id}.{self.seq}"

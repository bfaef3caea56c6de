"""Instant messages between librarians (the IM tab)."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone


class ImSession(models.Model):
    """A private conversation between two librarians (the IM tab).

    Open until either side ends it, logs off or leaves the shift, or no line
    was said in it for ``IM_IDLE_MINUTES`` (``end_reason`` says which). Lines
    are :class:`ImMessage`, numbered per IM session like a chat session's lines.
    """

    class EndReason(models.TextChoices):
        ENDED = "ended", "Ended"
        LOGGED_OFF = "logged_off", "Logged off"
        LEFT_SHIFT = "left_shift", "Left the shift"
        IDLE = "idle", "Idle"

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
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    last_seq = models.PositiveIntegerField(default=0)
    # When the last line was said (or the session opened): the idle sweep's clock.
    last_line_at = models.DateTimeField(default=timezone.now)
    # The patron session this IM is about (the About select of the IM pane,
    # or the Transfer dialog's session): while it is open, every line said
    # here is also stored in its Chat History as a Librarian Note.
    about_session = models.ForeignKey(
        "chat.ChatSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
        indexes = [
            # The idle sweep: open IM sessions whose last line is older than the cut-off.
            models.Index(
                fields=["last_line_at"], condition=Q(ended_at__isnull=True), name="im_open_idle"
            )
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
    # The patron session this line was also stored in as a Librarian Note (null: private).
    noted_in = models.ForeignKey(
        "chat.ChatSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

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

"""Instant messages between librarians (the IM tab)."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Least


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
        "chat.ChatSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The session's ``transfer_round`` when the IM was linked to it: once a
    # transfer of it is settled the round moves on and the copying stops.
    about_round = models.PositiveIntegerField(default=0, editable=False)
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

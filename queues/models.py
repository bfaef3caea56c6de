import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Queue(models.Model):
    """Where patron requests land. Each chat form on a web site feeds one queue.

    A queue serves one library, or several (a cooperative queue shared by
    the libraries of a consortium).
    """

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True, help_text="The chat form is /ask/<slug>/.")
    libraries = models.ManyToManyField(
        "accounts.Library",
        related_name="queues",
        help_text="The libraries whose patrons ask here. "
        "More than one makes it a cooperative queue.",
    )
    description = models.CharField(
        max_length=300, blank=True, help_text="Shown to patrons on the list of chat services."
    )
    is_open = models.BooleanField(
        "open", default=True, help_text="Closed queues take no new requests."
    )
    email_required = models.BooleanField(
        default=False, help_text="Patrons must give an email address to ask."
    )
    announce_join = models.BooleanField(
        "tell the patron who joins",
        default=True,
        help_text='Show the patron a line such as "Bob has joined the chat" when a librarian '
        "picks the session up or takes it over in a transfer.",
    )
    patron_grace_seconds = models.PositiveIntegerField(
        "patron grace period (seconds)",
        default=600,
        help_text="How long a patron whose window closed or whose network dropped may come "
        "back to the same chat. After it the session ends as lost (the transcript is still "
        "emailed).",
    )
    transfer_offer_seconds = models.PositiveIntegerField(
        "transfer offer lifetime (seconds)",
        default=60,
        help_text="A transfer not accepted within this time expires; the sender keeps the session.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("ask-form", args=[self.slug])


class MembershipQuerySet(models.QuerySet["Membership"]):
    def monitoring(self) -> "MembershipQuerySet":
        return self.filter(is_monitoring=True)


class Membership(models.Model):
    """A librarian may monitor a queue. Supervisors set these in the admin."""

    librarian = models.ForeignKey(
        "accounts.Librarian", on_delete=models.CASCADE, related_name="memberships"
    )
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    is_monitoring = models.BooleanField(default=False, editable=False)
    monitoring_since = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["librarian", "queue"], name="unique_membership")
        ]
        ordering = ["queue__name"]

    def __str__(self) -> str:
        return f"{self.librarian} in {self.queue}"


def new_patron_token() -> str:
    # 192 bits from the OS's CSPRNG: the patron's only key to the session.
    return secrets.token_urlsafe(24)


class ChatSession(models.Model):
    """One patron conversation: waiting → active → closed.

    Every change of ``state``, ``primary`` and the closing fields goes through
    :mod:`queues.services`.
    """

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    class ClosedBy(models.TextChoices):
        PATRON = "patron", "Patron"
        LIBRARIAN = "librarian", "Librarian"
        SYSTEM = "system", "System"

    token = models.CharField(max_length=64, unique=True, default=new_patron_token, editable=False)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="sessions")
    library = models.ForeignKey(
        "accounts.Library",
        on_delete=models.PROTECT,
        related_name="sessions",
        help_text="The patron's library (for a cooperative queue, the one they chose).",
    )
    patron_name = models.CharField("screen name", max_length=80)
    patron_email = models.EmailField(blank=True)
    question = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    primary = models.ForeignKey(
        "accounts.Librarian",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_sessions",
        help_text="The librarian responsible for the session.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the session last started waiting: asked, or returned to the queue.
    waiting_since = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=10, choices=ClosedBy.choices, blank=True)
    # Since when no patron socket is open (null while the patron is there).
    # Past the queue's grace period the session ends as lost.
    patron_gone_since = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # The sequence numbers of the last line and last patron-visible line stored.
    last_seq = models.PositiveIntegerField(default=0)
    last_patron_seq = models.PositiveIntegerField(default=0)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)
    # Set when a librarian returned the session to the queue (a transfer to
    # the queue): New shows it marked "(Transfer)" with their note.
    requeued_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requeue_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["queue", "state"], name="session_queue_state")]
        constraints = [
            models.CheckConstraint(
                name="active_session_has_primary",
                condition=~Q(state="active") | Q(primary__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.patron_name} ({self.get_state_display()})"

    @property
    def patron_present(self) -> bool:
        return self.patron_gone_since is None

    def patron_group(self) -> str:
        """Channel-layer group of the patron's sockets: patron-visible events only."""
        return f"patron.{self.pk}"


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

    def __str__(self) -> str:
        return f"console of {self.librarian_id} ({'closed' if self.closed else 'open'})"


class TransferOffer(models.Model):
    """A primary librarian's offer to hand a session to a colleague.

    The session stays with the sender until the receiver takes it (OK); a
    decline, a cancel or no answer in time leaves it with the sender. At
    most one offer per session is open at a time.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="offers")
    sender = models.ForeignKey("accounts.Librarian", on_delete=models.PROTECT, related_name="+")
    receiver = models.ForeignKey("accounts.Librarian", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(state="open"), name="one_open_offer_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"transfer of #{self.session_id} ({self.state})"


class PatronPresence(models.Model):
    """One patron socket (a tab) of a session, refreshed by heartbeat.

    The patron is there while any open row was seen recently; a socket whose
    server process died stops being refreshed and counts as gone.
    """

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField(db_index=True)
    closed = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"patron socket of #{self.session_id}"

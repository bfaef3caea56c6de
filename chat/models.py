"""The chat session aggregate: a patron's conversation, its lines, its
patron's sockets and its transfer offers.

Every change of these rows goes through :mod:`chat.sessions` (the life of a
session), :mod:`chat.lines` (its lines), :mod:`chat.patrons` (the patron's
presence) and :mod:`chat.transfers` (offers).
"""

import re
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.groups import patron_group


def new_patron_token() -> str:
    # 192 bits from the OS's CSPRNG: the patron's only key to the session.
    return secrets.token_urlsafe(24)


# What a token from new_patron_token can look like (URL-safe base64, within
# the column's length): anything else is no session's, and is not worth a query
# (one with a NUL in it is an error on PostgreSQL).
PATRON_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ChatSession(models.Model):
    """One patron conversation: waiting → active → closed.

    Every change of ``state``, ``primary`` and the closing fields goes through
    :mod:`chat.sessions` and :mod:`chat.transfers`.
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
    queue = models.ForeignKey("queues.Queue", on_delete=models.PROTECT, related_name="sessions")
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
    # When each group of the queue's members sees the request, by the
    # database's clock (chat/routing.py, queues/tiers.py); null: never.
    # Set when it starts waiting, from the queue's tiers.
    reaches_home_at = models.DateTimeField(null=True, blank=True, editable=False)
    reaches_cooperative_at = models.DateTimeField(null=True, blank=True, editable=False)
    reaches_backup_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Up to which of those times the request was published to the queue's
    # consoles: the worker's roll-over moves it on, once per tier reached.
    announced_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When the worker offered it back to the patron's own library (a queue's
    # automatic hand-back, chat/handback.py): once per holder.
    handback_offered_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The first pick-up, kept when the session goes back to its queue and is
    # picked up again (``accepted_at`` is the last): the wait statistics
    # count from asking to this.
    first_accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Since when its primary has held it (the pick-up, or the transfer to them):
    # where their Hold starts when it ends.
    held_since = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=10, choices=ClosedBy.choices, blank=True)
    # Since when no patron socket is open (null while the patron is there).
    # Past the queue's grace period the session ends as lost.
    patron_gone_since = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # The sequence numbers of the last line and last patron-visible line stored.
    last_seq = models.PositiveIntegerField(default=0)
    last_patron_seq = models.PositiveIntegerField(default=0)
    # The transcript email's delivery (transcripts/delivery.py): due from
    # ``transcript_due_at`` (set when the session closes with an address, or
    # the patron gives one after), claimed by moving it on, cleared once
    # ``transcript_sent_at`` is set or the mail server refused it too often.
    transcript_sent_at = models.DateTimeField(null=True, blank=True)
    transcript_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    transcript_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # Set when a librarian returned the session to the queue (a transfer to
    # the queue): New shows it marked "(Transfer)" with their note.
    requeued_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requeue_note = models.CharField(max_length=500, blank=True)
    # How many transfers of this session were settled (taken, declined,
    # cancelled, expired, or the session returned to its queue).
    transfer_round = models.PositiveIntegerField(default=0, editable=False)
    # The patron's client address as a keyed hash (core.clients.address_hash),
    # never the address: what a librarian's block applies to (chat/blocks.py).
    # Blanked when the session closes: a block is made from an open one.
    patron_address_hash = models.CharField(max_length=64, blank=True, editable=False)
    # When the librarian ended the session by blocking the patron: no
    # transcript is sent or offered for it.
    blocked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The patron's language when asking (or last chosen on the chat page):
    # the system lines the patron reads are written in it, the patron's socket
    # sends its errors in it, the transcript email goes out in it (core/i18n.py).
    language = models.CharField(max_length=16, default="en", editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            (
                "watch_chatsession",
                "Can watch and take over live chat sessions of their library's queues",
            ),
            (
                "view_statistics",
                "Can read the statistics of all their library's queues and librarians",
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "state"], name="session_queue_state"),
            # The worker's sweep for patrons gone past the grace period.
            models.Index(
                fields=["patron_gone_since"],
                name="session_patron_away",
                condition=Q(state__in=["waiting", "active"], patron_gone_since__isnull=False),
            ),
            # The worker's roll-over: waiting requests not yet published to every tier.
            models.Index(
                fields=["announced_until"],
                name="session_rolling_over",
                condition=Q(state="waiting"),
            ),
            # The worker's look for transcripts to send.
            models.Index(
                fields=["transcript_due_at"],
                name="session_transcript_due",
                condition=Q(transcript_due_at__isnull=False),
            ),
        ]
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
        return patron_group(self.pk)


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
        # A web page the librarian sent the patron: its title in ``text``, its address in ``url``.
        PAGE = "page", "Pushed page"

    class Visibility(models.TextChoices):
        PATRON = "patron", "Patron and staff"
        STAFF = "staff", "Staff only (Librarian Note)"

    session = models.ForeignKey(
        "chat.ChatSession", on_delete=models.CASCADE, related_name="messages"
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
    # A pushed page's address (http or https, checked by ``chat.pages.page_validate``);
    # empty for every other line. The database's default too: the statement that
    # stores an ordinary line (chat/line_sql.py) doesn't name the column.
    url = models.CharField(max_length=2000, blank=True, default="", db_default="")
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
            # A pushed page has its address, and only a pushed page has one.
            models.CheckConstraint(
                name="page_has_url",
                condition=(Q(kind="page") & ~Q(url="")) | (~Q(kind="page") & Q(url="")),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.session_id}.{self.seq} {self.get_kind_display()}"


class TransferOffer(models.Model):
    """A primary librarian's offer to hand a session to a colleague, or
    (``kind`` join) to have them join it.

    The session stays with the sender until the receiver takes it (OK); a
    decline, a cancel or no answer in time leaves it with the sender. An
    invitation to join taken leaves it with the sender too, the receiver one
    more librarian in it (:class:`Participant`). At most one offer per
    session is open at a time.
    """

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        JOIN = "join", "Invitation to join"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="offers")
    sender = models.ForeignKey("accounts.Librarian", on_delete=models.PROTECT, related_name="+")
    receiver = models.ForeignKey("accounts.Librarian", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TRANSFER)
    note = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The worker's expiry of offers past their time.
            models.Index(fields=["expires_at"], name="offer_open_expiry", condition=Q(state="open"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=Q(state="open"), name="one_open_offer_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"transfer of #{self.session_id} ({self.state})"


class Hold(models.Model):
    """One librarian's hold of a session, written when it ends: from the pick-up
    (or the transfer to them) until the session ended, was handed on or went
    back to its queue. The librarian owes its wrap-up (``wrapup``); the rows
    are also who answered a session, and for how long, in its history.
    Written only by :func:`chat.steps.hold_end`.
    """

    class End(models.TextChoices):
        CLOSED = "closed", "Ended"
        TRANSFERRED = "transferred", "Transferred"
        TAKEN_OVER = "taken_over", "Taken over"
        REQUEUED = "requeued", "Returned to the queue"

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="holds")
    librarian = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, related_name="holds"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField()
    ended_how = models.CharField(max_length=12, choices=End.choices)

    class Meta:
        ordering = ["ended_at", "pk"]
        indexes = [
            # A librarian's chats to wrap up, newest first.
            models.Index(fields=["librarian", "-ended_at"], name="hold_of_librarian"),
        ]

    def __str__(self) -> str:
        return f"hold of #{self.session_id} ({self.ended_how})"


class Participant(models.Model):
    """A librarian in a session beside its primary, from ``started_at`` until ``ended_at``.

    ``joined``: a colleague who took the primary's invitation: they read and
    write lines to the patron and Librarian Notes; only the primary
    transfers or ends the session. ``watching``: a supervisor reading a live
    session from the console, read-only and unknown to the patron. The rows
    stay when they end: who was in a session, and when, is its history.
    Every change goes through :mod:`chat.team`.
    """

    class Role(models.TextChoices):
        JOINED = "joined", "Joined"
        WATCHING = "watching", "Watching"

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="participants")
    librarian = models.ForeignKey(
        "accounts.Librarian", on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    # Who invited a joined librarian (the primary then).
    invited_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        indexes = [
            # Every line stored asks who else is in its session (chat/line_sql.py).
            models.Index(
                fields=["session", "librarian"],
                name="participant_in_session",
                condition=Q(ended_at__isnull=True),
            ),
            # A console's snapshot: the sessions a librarian is in.
            models.Index(
                fields=["librarian"], name="participant_of", condition=Q(ended_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "librarian"],
                condition=Q(ended_at__isnull=True),
                name="one_participation_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} #{self.session_id}"


class PatronPresence(models.Model):
    """One patron socket (a tab) of a session, refreshed by heartbeat.

    The patron is there while any open row was seen recently; a socket whose
    server process died stops being refreshed and counts as gone.
    """

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField(db_index=True)
    closed = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # The worker's sweep for sockets whose server process died.
            models.Index(
                fields=["last_seen"], name="patron_socket_open_seen", condition=Q(closed=False)
            )
        ]

    def __str__(self) -> str:
        return f"patron socket of #{self.session_id}"


class PatronBlock(models.Model):
    """A librarian kept an abusive patron's address from new chats until ``expires_at``.

    Only the address's keyed hash is kept (``core.clients.address_hash``),
    and only while the block stands: lifted or expired, it is blanked. A
    supervisor may lift a block early in the admin (``lifted_at``).
    """

    address_hash = models.CharField(max_length=64, editable=False)
    session = models.ForeignKey(
        ChatSession, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    blocked_by = models.ForeignKey(
        "accounts.Librarian", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["address_hash", "expires_at"], name="block_address"),
            # The worker's prune of expired blocks' hashes.
            models.Index(fields=["expires_at"], name="block_expiry", condition=~Q(address_hash="")),
        ]

    def __str__(self) -> str:
        return f"block from session #{self.session_id} until {self.expires_at:%Y-%m-%d %H:%M}"

import secrets

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.hours import OpeningPeriodBase, SpecialDayBase, validate_time_zone


def page_version_new() -> int:
    """A new :attr:`Queue.page_version`: random, so a version is never met again,
    not even by a queue that reuses a deleted one's id (SQLite does)."""
    return secrets.randbits(62)


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

    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="The zone of this queue's own hours (an IANA name such as America/Chicago). "
        "Empty: its first library's zone (by name).",
    )
    busy_at = models.PositiveSmallIntegerField(
        "busy at (active chats per librarian)",
        default=3,
        validators=[MinValueValidator(1)],
        help_text="A librarian's maximum of active chats (in any queue) for this queue's "
        "requests, unless their own is set: at it they get no popups and can't pick up more. "
        'Patrons are told "all librarians are busy" when no librarian monitoring the queue '
        "can take a chat.",
    )
    handback_after_seconds = models.PositiveIntegerField(
        "hand back automatically after (seconds)",
        default=0,
        help_text="A session a librarian of another library (the cooperative, backup) has "
        "held this long is offered to a librarian of the patron's own library who monitors "
        "the queue, through the transfer handshake. 0: only by the holder's Hand back button.",
    )
    waiting_alert_seconds = models.PositiveIntegerField(
        "waiting too long after (seconds)",
        default=120,
        help_text='A request waiting this long is marked "waiting too long" in every New '
        "list where it is visible, announced once to screen readers, and counted in the "
        "admin's list of queues. 0: never.",
    )
    page_version = models.BigIntegerField(
        default=page_version_new,
        editable=False,
        help_text="Changes with every change to what the patron pages read with the queue "
        "(its hours and zone, its libraries, their hours, zones and brands): the key of "
        "each process's copy of them (queues/hours.py).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("ask-form", args=[self.slug])


class QueueOpeningPeriod(OpeningPeriodBase):
    """A period of the queue's own weekly hours (which, when it has any, replace its library's)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="opening_periods")

    class Meta(OpeningPeriodBase.Meta):
        verbose_name = "opening period"


class QueueSpecialDay(SpecialDayBase):
    """A holiday or a day of special hours of the queue's own hours."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="special_days")

    class Meta(SpecialDayBase.Meta):
        verbose_name = "holiday or special day"
        constraints = [
            models.UniqueConstraint(fields=["queue", "date"], name="queue_special_day_unique")
        ]


class QueueTier(models.Model):
    """A step of a queue's roll-over: from ``after_seconds`` of waiting on,
    the monitors of its groups also see a request (queues/tiers.py).

    A queue without tiers keeps the defaults: the patron's own library at
    once, the cooperative's other librarians after 40 s, backup librarians
    after 120 s.
    """

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="tiers")
    after_seconds = models.PositiveIntegerField(
        "after (seconds)",
        help_text="How long a request waits before this tier's librarians see it too "
        "(the first tier: 0).",
    )
    home = models.BooleanField(
        "the patron's own library",
        default=False,
        help_text="Librarians of the library the patron asked from.",
    )
    cooperative = models.BooleanField(
        "the cooperative's other libraries",
        default=False,
        help_text="The queue's other members: librarians of any other library.",
    )
    backup = models.BooleanField(
        "backup librarians",
        default=False,
        help_text="Members marked as backup for this queue.",
    )

    class Meta:
        ordering = ["queue", "after_seconds", "pk"]
        verbose_name = "roll-over tier"

    def __str__(self) -> str:
        return f"{self.queue} after {self.after_seconds} s"


class MembershipQuerySet(models.QuerySet["Membership"]):
    def monitoring(self) -> "MembershipQuerySet":
        return self.filter(is_monitoring=True)


class Membership(models.Model):
    """A librarian may monitor a queue. Supervisors set these in the admin."""

    librarian = models.ForeignKey(
        "accounts.Librarian", on_delete=models.CASCADE, related_name="memberships"
    )
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    is_backup = models.BooleanField(
        "backup librarian",
        default=False,
        help_text="Sees this queue's requests only in its backup tier (by default after "
        "120 s), whatever their library.",
    )
    is_monitoring = models.BooleanField(default=False, editable=False)
    monitoring_since = models.DateTimeField(null=True, blank=True, editable=False)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["librarian", "queue"], name="unique_membership")
        ]
        indexes = [
            # Who monitors now: the worker's sweep and every console's digest.
            models.Index(
                fields=["librarian", "queue"],
                name="membership_monitoring",
                condition=Q(is_monitoring=True),
            )
        ]
        ordering = ["queue__name"]

    def __str__(self) -> str:
        return f"{self.librarian} in {self.queue}"

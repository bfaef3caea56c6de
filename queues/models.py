from django.db import models
from django.db.models import Q
from django.urls import reverse


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

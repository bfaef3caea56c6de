from django.conf import settings
from django.db import models


class Library(models.Model):
    """An institution whose patrons ask questions (a public or college library)."""

    class Kind(models.TextChoices):
        PUBLIC = "public", "Public library"
        ACADEMIC = "academic", "College or university library"
        SPECIAL = "special", "Special library"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PUBLIC)
    website = models.URLField(blank=True)
    policy = models.TextField(
        "policy page",
        blank=True,
        help_text="Hours, borrowing rules, contacts: what any librarian answering this "
        "library's patrons must be able to read from inside the session. Plain text.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "libraries"

    def __str__(self) -> str:
        return self.name


class Librarian(models.Model):
    """The staff profile of a user who answers chats."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="librarian"
    )
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="librarians")
    display_name = models.CharField(
        max_length=100, help_text="Shown to colleagues and, on pick-up, to the patron."
    )
    staff_id = models.CharField("staff ID", max_length=40, unique=True)
    primary_queue = models.ForeignKey(
        "queues.Queue",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Shown in the Queue (Library) column of the Librarians list.",
    )
    alert_sound = models.BooleanField("play a sound for new requests", default=True)
    alert_popup = models.BooleanField("show a popup for new requests", default=True)
    im_sound = models.BooleanField("play a sound for instant messages", default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.staff_id})"

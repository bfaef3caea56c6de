from django.conf import settings
from django.db import models

from core.hours import OpeningPeriodBase, SpecialDayBase, default_time_zone, validate_time_zone


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

    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="The IANA name of the zone the library's hours are in, such as "
        "America/Chicago. Patrons see opening times in it.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "libraries"

    def __str__(self) -> str:
        return self.name


class LibraryOpeningPeriod(OpeningPeriodBase):
    """A period of the library's weekly hours (local to ``Library.time_zone``)."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="opening_periods")

    class Meta(OpeningPeriodBase.Meta):
        verbose_name = "opening period"


class LibrarySpecialDay(SpecialDayBase):
    """A holiday or a day of special hours of the library."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="special_days")

    class Meta(SpecialDayBase.Meta):
        verbose_name = "holiday or special day"
        constraints = [
            models.UniqueConstraint(fields=["library", "date"], name="library_special_day_unique")
        ]


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

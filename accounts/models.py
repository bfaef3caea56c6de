from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from accounts.branding import brand_colors_errors
from core.colors import validate_hex_color
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
    # The brand on the library's patron pages (accounts/branding.py): all
    # optional; without them the pages keep Reference Chat's own look.
    logo = models.ImageField(
        upload_to="logos/",
        blank=True,
        width_field="logo_width",
        height_field="logo_height",
        help_text="PNG, JPEG or WebP, at most 512 KB. Shown at the top of the patron "
        "pages, at most 3.5 rem high. SVG is not accepted.",
    )
    logo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    logo_alt = models.CharField(
        "logo text alternative",
        max_length=200,
        blank=True,
        help_text='What a screen reader says for the logo. Empty: "<library name> logo".',
    )
    brand_color = models.CharField(
        "primary colour",
        max_length=7,
        blank=True,
        validators=[validate_hex_color],
        help_text="#rrggbb: the header and the main buttons of the patron pages.",
    )
    brand_text_color = models.CharField(
        "text colour on the primary colour",
        max_length=7,
        blank=True,
        validators=[validate_hex_color],
        help_text="#rrggbb, usually #ffffff or a near-black: needs 4.5:1 contrast on the "
        "primary colour.",
    )
    link_color = models.CharField(
        "link colour",
        max_length=7,
        blank=True,
        validators=[validate_hex_color],
        help_text="#rrggbb for links and outlined buttons on the page's light background "
        "(4.5:1 needed). Empty: the primary colour.",
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

    def clean(self) -> None:
        # Here, not only in the admin's form: any full_clean() refuses colours
        # a patron couldn't read.
        errors = brand_colors_errors(
            primary=self.brand_color, text=self.brand_text_color, link=self.link_color
        )
        if errors:
            raise ValidationError(errors)


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

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        BUSY = "busy", "Busy"
        AWAY = "away", "Away"

    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.AVAILABLE,
        help_text="Set by the librarian in the console. Busy and Away: no popups for new "
        "requests, not offered transfers; Away also does not count as staffing a queue.",
    )
    max_sessions = models.PositiveSmallIntegerField(
        "maximum simultaneous chats",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="At this many active chats the librarian is shown as Busy, gets no popups "
        "and can't pick up more. Empty: each queue's \"busy at\".",
    )
    alert_sound = models.BooleanField("play a sound for new requests", default=True)
    alert_popup = models.BooleanField("show a popup for new requests", default=True)
    im_sound = models.BooleanField("play a sound for instant messages", default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.staff_id})"

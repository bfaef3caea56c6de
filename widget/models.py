from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.colors import require_text_contrast, validate_hex_color
from widget.origins import origins_parse


class Widget(models.Model):
    """How a queue's chat widget looks, and which web sites may embed it.

    One per queue, edited on the queue's admin page. A queue without one
    (or with no origin listed) can't be framed anywhere: the widget falls
    back to a pop-up window on our own site.
    """

    queue = models.OneToOneField("queues.Queue", on_delete=models.CASCADE, related_name="widget")
    allowed_origins = models.TextField(
        _("embedding allowed from"),
        blank=True,
        help_text=_(
            "The web sites that may show this queue's chat in a panel on their pages: one "
            "origin a line, such as https://www.library.example.org (scheme and host, and a "
            "port if it isn't the usual one). Other sites get no chat."
        ),
    )
    button_color = models.CharField(
        _("button colour"), max_length=7, default="#1d4ed8", validators=[validate_hex_color]
    )
    text_color = models.CharField(
        _("button text colour"), max_length=7, default="#ffffff", validators=[validate_hex_color]
    )
    # Blank: the default text, in the patron's language. What a library types
    # is its own text and is shown as it is.
    button_label = models.CharField(
        _("button label"),
        max_length=40,
        blank=True,
        help_text=_('Blank: "Chat with a librarian" (translated).'),
    )
    panel_title = models.CharField(
        _("panel title"),
        max_length=60,
        blank=True,
        help_text=_("Blank: the queue's name."),
    )

    class Meta:
        verbose_name = _("chat widget")

    def __str__(self) -> str:
        return f"Widget of {self.queue}"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        try:
            self.allowed_origins = "\n".join(origins_parse(self.allowed_origins))
        except ValidationError as error:
            errors["allowed_origins"] = error.error_list
        try:
            validate_hex_color(self.button_color)
            validate_hex_color(self.text_color)
        except ValidationError:
            pass  # the fields' own validators say which
        else:
            try:
                require_text_contrast(
                    self.text_color,
                    self.button_color,
                    what=str(_("The button's text on its colour")),
                )
            except ValidationError as error:
                errors["text_color"] = [error]
        if errors:
            raise ValidationError(errors)

    @property
    def origins(self) -> list[str]:
        return [line for line in self.allowed_origins.splitlines() if line.strip()]

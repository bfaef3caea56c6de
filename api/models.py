"""API keys: a library's keys for other systems (its web site, reporting
tools, a CRM), made by its supervisor in the admin (docs/api.md).

djangorestframework-api-key makes and checks them: the key is shown once
when it is made, only its prefix and a SHA-512 hash are stored, and it can
expire and be revoked. Each key belongs to one library, whose data alone it
reads, and carries the scopes it may use (``Scope``).
"""

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class Scope(models.TextChoices):
    STATUS = "status", "Status"
    STATISTICS = "statistics", "Statistics"
    SESSIONS = "sessions", "Sessions, without line text"
    TRANSCRIPTS = "transcripts", "Transcripts (patron-visible lines)"
    TRANSCRIPTS_NOTES = "transcripts_notes", "Transcripts with Librarian Notes"
    QUEUES = "queues", "Queue opening"
    FOLLOW_UPS = "follow_ups", "Follow-ups"


class LibraryAPIKeyManager(BaseAPIKeyManager):
    def get_usable_keys(self) -> models.QuerySet["LibraryAPIKey"]:
        return super().get_usable_keys().select_related("library")


class LibraryAPIKey(AbstractAPIKey):
    objects = LibraryAPIKeyManager()  # type: ignore[misc,assignment]

    library = models.ForeignKey(
        "accounts.Library", on_delete=models.CASCADE, related_name="api_keys"
    )
    scopes = models.JSONField(
        default=list,
        blank=True,
        help_text="What the key may do; every other endpoint refuses it (403).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    last_used_at = models.DateTimeField("last used", null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        ordering = ("library__name", "-created")  # type: ignore[assignment]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

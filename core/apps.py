from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The infrastructure every app builds on; it imports none of them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Infrastructure"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the checks

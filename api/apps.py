from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # The API key's security scheme registers itself with drf-spectacular.
        from api import schema  # noqa: F401

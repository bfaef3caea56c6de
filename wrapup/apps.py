from django.apps import AppConfig


class WrapupConfig(AppConfig):
    verbose_name = "Wrap-up"
    default_auto_field = "django.db.models.BigAutoField"
    name = "wrapup"

    def ready(self) -> None:
        from wrapup.receivers import receivers_connect

        receivers_connect()

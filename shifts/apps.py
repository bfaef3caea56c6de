from django.apps import AppConfig


class ShiftsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shifts"
    verbose_name = "Shifts and monitoring"

    def ready(self) -> None:
        # A log-out, a deactivation or a removed membership ends the
        # librarian's access on every open console (shifts/access.py).
        from shifts import receivers

        receivers.connect()

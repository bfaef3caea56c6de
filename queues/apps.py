from django.apps import AppConfig


class QueuesConfig(AppConfig):
    verbose_name = "Queues and membership"
    default_auto_field = "django.db.models.BigAutoField"
    name = "queues"

    def ready(self) -> None:
        from queues.receivers import receivers_connect

        receivers_connect()

from django.apps import AppConfig


class QueuesConfig(AppConfig):
    verbose_name = "Queues and membership"
    default_auto_field = "django.db.models.BigAutoField"
    name = "queues"

from django.apps import AppConfig


class ScriptsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scripts"
    verbose_name = "Scripts and saved pages"

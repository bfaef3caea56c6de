from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Libraries and librarians"

    def ready(self) -> None:
        post_migrate.connect(_ensure_supervisors, sender=self, dispatch_uid="supervisors")


def _ensure_supervisors(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from accounts.services import supervisors_group_ensure

    supervisors_group_ensure(using=using)

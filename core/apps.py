from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The infrastructure every app builds on; it imports none of them."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Infrastructure"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the checks

        post_migrate.connect(_cache_table_ensure, sender=self, dispatch_uid="cache_table")


def _cache_table_ensure(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """The database cache's table (the limits' counters, core/limits.py)
    comes with every ``migrate``: ``make run``, the deployment's migration
    step and the tests need nothing more. With Redis as the cache it does nothing."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)

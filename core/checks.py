"""Deployment checks (``manage.py check --deploy`` and at start-up)."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def email_is_configured(app_configs: object, **kwargs: object) -> list[Warning]:
    if not settings.DEBUG and settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return [
            Warning(
                "Transcript emails are written to files, not sent.",
                hint="Set EMAIL_URL (smtp+tls://user:pass@host:587) in production.",
                id="reference_chat.W001",
            )
        ]
    return []


@register(deploy=True)
def secret_key_is_shared(app_configs: object, **kwargs: object) -> list[Warning]:
    if settings.REDIS_URL and not getattr(settings, "SECRET_KEY_FROM_ENV", True):
        return [
            Warning(
                f"SECRET_KEY was made by this machine ({settings.SECRET_KEY_FILE}).",
                hint="Processes on several machines must share one: set SECRET_KEY "
                "to the same long random value everywhere.",
                id="reference_chat.W002",
            )
        ]
    return []

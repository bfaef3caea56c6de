from django.apps import AppConfig


class ReferenceChatConfig(AppConfig):
    name = "reference_chat"
    verbose_name = "Reference Chat"

    def ready(self) -> None:
        from reference_chat import checks  # noqa: F401 - registers the checks

from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = "Patron surveys"

    def ready(self) -> None:
        # Chat History (transcripts) sits below this app and can't import it:
        # the rating's fact and filter are added to it from here.
        from surveys import history

        history.history_rating_register()

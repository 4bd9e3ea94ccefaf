from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outcomes"
    verbose_name = "Outcomes across the practice and the network; the research export"

    def ready(self):
        # Services enqueue this app's tasks by name: register them in every process, the web's too.
        from . import tasks  # noqa: F401

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "messaging.reminders"
    label = "reminders"
    verbose_name = "Reminders"

    def ready(self):
        # The visits' reminder kinds register themselves beside the others (kinds.py), once every app is loaded.
        from . import visit_kinds  # noqa: F401

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "messaging.reminders"
    label = "reminders"
    verbose_name = "Reminders"

    def ready(self):
        # The visits' reminder kinds register themselves beside the others (kinds.py), once every app is loaded.
        from . import (
            prescription_kinds,  # noqa: F401 (prescriptions' kinds, registered the same way)
            visit_kinds,  # noqa: F401
        )

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "messaging.reminders"
    label = "reminders"
    verbose_name = "Reminders"

    def ready(self):
        from . import prescription_kinds  # noqa: F401 (registers its kinds in kinds.KINDS, without an import circle)

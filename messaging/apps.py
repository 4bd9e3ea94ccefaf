from django.apps import AppConfig


class MessagingConfig(AppConfig):
    verbose_name = "Messaging and reminders"
    name = "messaging"

    def ready(self):
        # Lower apps wake messaging by task name (patients.services.SAFETY_ALERT_TASK); the web process must
        # know the task too, not only the worker, or the alert would never be handed over.
        from . import tasks  # noqa: F401

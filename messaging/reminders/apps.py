from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "messaging.reminders"
    label = "reminders"
    verbose_name = "Reminders"

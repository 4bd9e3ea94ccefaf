from django.apps import AppConfig


class MessagingConfig(AppConfig):
    verbose_name = "Messaging and reminders"
    name = "messaging"

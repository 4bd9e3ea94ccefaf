from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kapcare.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Services enqueue this app's tasks by name (kapcare.celery.enqueue_on_commit): register them everywhere.
        from . import (
            signals,  # noqa: F401
            tasks,  # noqa: F401
        )

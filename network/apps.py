from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """The KAP network (ARCHITECTURE.md, "Where the next capabilities go"): joining and credential verification
    (network.joining), training and peer consultation. It writes the facts the practice gates read (approval,
    credentials, training) into kapcare.accounts through that app's services."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "network"
    verbose_name = "The KAP network"

    def ready(self):
        # The signing services enqueue supervision's selection by name (kapcare.celery.enqueue_on_commit): register
        # the tasks in every process, the web's too, not only the worker's.
        from .supervision import tasks  # noqa: F401

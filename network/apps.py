from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """The KAP network (ARCHITECTURE.md, "Where the next capabilities go"): joining and credential verification
    (network.joining), training and peer consultation. It writes the facts the practice gates read (approval,
    credentials, training) into kapcare.accounts through that app's services."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "network"
    verbose_name = "The KAP network"

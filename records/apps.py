from django.apps import AppConfig


class RecordsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "records"
    verbose_name = "Records that leave: the patient's copy, releases, FHIR"

    def ready(self):
        # Services enqueue this app's tasks by name (kapcare.celery.enqueue_on_commit): register them in every
        # process, the web's too, not only the worker's.
        from . import tasks  # noqa: F401

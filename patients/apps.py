from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients and care teams"

    def ready(self):
        # Services enqueue this app's tasks by name (kapcare.celery.enqueue_on_commit): register them in every
        # process, the web's too, not only the worker's.
        from . import tasks  # noqa: F401

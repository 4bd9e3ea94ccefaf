from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    verbose_name = "Courses of care and sessions"
    name = "treatment"

    def ready(self):
        from treatment.prescriptions import admin  # noqa: F401 (registers the prescription models' admins)

from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    verbose_name = "Courses of care and sessions"
    name = "treatment"

    def ready(self):
        from patients import due_work

        from . import due_work as rules

        due_work.register(rules.derive)  # the course of care's due work, stored by patients.due_work
        from treatment.prescriptions import admin  # noqa: F401 (registers the prescription models' admins)

from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    verbose_name = "Courses of care and sessions"
    name = "treatment"

from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    verbose_name = "Intake, questionnaires and evaluations"
    name = "assessments"

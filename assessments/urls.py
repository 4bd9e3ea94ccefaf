from django.urls import path

from . import views
from .questionnaires import views as questionnaire_views

app_name = "assessments"

urlpatterns = [
    path("intake/", views.my_intake, name="intake"),
    path("patients/<uuid:patient_id>/intake/", views.patient_intake, name="patient-intake"),
    path("patients/<uuid:patient_id>/intake/edit/", views.patient_intake_edit, name="patient-intake-edit"),
    path(
        "patients/<uuid:patient_id>/questionnaires/<slug:code>/",
        questionnaire_views.chart_questionnaire_form,
        name="patient-questionnaire-form",
    ),
    path("questionnaires/<slug:code>/", questionnaire_views.questionnaire_form, name="questionnaire-form"),
    path(
        "questionnaires/responses/<uuid:response_id>/",
        questionnaire_views.questionnaire_done,
        name="questionnaire-done",
    ),
]

"""Reads of questionnaire responses; every one starts from kapcare.access. Callers check
Permission.VIEW_QUESTIONNAIRES."""

from patients.access import visible_patients

from .models import QuestionnaireResponse


def visible_questionnaire_responses(user):
    return QuestionnaireResponse.objects.filter(patient__in=visible_patients(user)).order_by("-submitted_at", "-id")

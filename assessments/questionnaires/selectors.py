"""Reads of questionnaire responses; every one starts from kapcare.access. Callers check
Permission.VIEW_QUESTIONNAIRES."""

from assessments.models import QuestionnaireResponse
from patients.access import visible_patients


def visible_questionnaire_responses(user):
    return QuestionnaireResponse.objects.filter(patient__in=visible_patients(user)).order_by("-submitted_at", "-id")

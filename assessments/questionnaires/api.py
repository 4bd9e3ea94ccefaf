"""Questionnaire responses over the API: `GET/POST /api/v1/assessments/` and `GET /api/v1/assessments/{id}/`.

The patient answers for themself, or a clinician on the care team enters the answers on their behalf; the
response carries `total_score` and `severity`. A PHQ-9 with item 9 above 0, a PHQ-9 rise of 5 or more, or a
moderate or high C-SSRS screen raises a safety alert to both clinicians (see /api/v1/alerts/). Every read and
write is audited. Coordinators see no scores."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from assessments import instruments
from assessments.models import QuestionnaireResponse
from assessments.questionnaires import selectors as questionnaire_selectors
from assessments.questionnaires import services as questionnaire_services
from kapcare import access
from kapcare.access import Permission
from kapcare.api.serializers import StrictFieldsMixin
from patients.api_base import PATIENT_FILTER, PatientScopedViewSet


class QuestionnaireResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuestionnaireResponse
        fields = [
            "id",
            "patient",
            "instrument",
            "answers",
            "difficulty",
            "total_score",
            "severity",
            "entered_by",
            "on_behalf",
            "submitted_at",
        ]
        read_only_fields = fields


class QuestionnaireSubmitSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    instrument = serializers.CharField(max_length=30, help_text="An instrument code: phq9, gad7, pcl5 or cssrs.")
    answers = serializers.ListField(
        child=serializers.JSONField(allow_null=True),
        help_text="One integer per item, in the instrument's order; null for an item the skip logic skips "
        "(C-SSRS: items 3-5 unless item 2 is 1, item 6a unless item 6 is 1).",
    )
    difficulty = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="Optional: the unscored difficulty question (PHQ-9), 0 (not difficult at all) to 3.",
    )


@extend_schema(tags=["assessments"])
class QuestionnaireResponseViewSet(PatientScopedViewSet):
    """Questionnaire responses, newest first."""

    scope = staticmethod(questionnaire_selectors.visible_questionnaire_responses)
    model = QuestionnaireResponse
    serializer_class = QuestionnaireResponseSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(parameters=[PATIENT_FILTER])
    def list(self, request):
        responses = self.filter_by_patient(self.get_queryset(), Permission.VIEW_QUESTIONNAIRES, whole_list_by_role=True)
        page = self.audited_page(responses)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        response = self.get_object()
        access.require(request.user, Permission.VIEW_QUESTIONNAIRES, response)
        return Response(self.get_serializer(self.audited_read(response)).data)

    @extend_schema(
        request=QuestionnaireSubmitSerializer,
        responses={201: QuestionnaireResponseSerializer},
        description="Instruments: " + ", ".join(code for code, _name in instruments.choices()) + ".",
    )
    def create(self, request):
        patient = self.patient_from_body(request.data, Permission.SUBMIT_QUESTIONNAIRE)
        serializer = QuestionnaireSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        response = questionnaire_services.questionnaire_submit(
            actor=request.user,
            patient=patient,
            instrument=data["instrument"],
            answers=data["answers"],
            difficulty=data.get("difficulty"),
        )
        return Response(self.get_serializer(response).data, status=201)

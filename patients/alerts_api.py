"""Safety alerts over the API (CONTRACT.md): `GET /api/v1/alerts/` for the caller's patients and
`POST /api/v1/alerts/{id}/acknowledge/`. The patient's therapist and prescriber see alerts, and a coordinator
those escalated to them; the patient does not (see Permission.VIEW_SAFETY_ALERTS).
Kept apart from patients/api.py like the consents."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare.access import Permission
from kapcare.api.serializers import StrictFieldsMixin

from . import selectors, services
from .access import only_openable_alerts, require_safety_alert
from .api_base import PatientScopedViewSet
from .models import SafetyAlert


class AlertRecipientSerializer(serializers.Serializer):
    clinician = serializers.UUIDField(source="clinician_id", help_text="The person told (a coordinator on escalation).")
    name = serializers.CharField(source="clinician.get_full_name")
    role = serializers.CharField(help_text="therapist, prescriber, or coordinator.")
    via = serializers.CharField(help_text="raised, handover (a change of clinician) or escalation.")
    sent_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(allow_null=True, help_text="The action they took.")


class AlertAcknowledgementSerializer(serializers.Serializer):
    clinician = serializers.UUIDField(source="clinician_id", help_text="Who acknowledged.")
    name = serializers.CharField(source="clinician.get_full_name")
    role = serializers.CharField(help_text="The role they acknowledged in.")
    acknowledged_at = serializers.DateTimeField()
    note = serializers.CharField(help_text="The action they took.")


class SafetyAlertSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(read_only=True)
    open_for_me = serializers.BooleanField(read_only=True, help_text="Waiting for your acknowledgement now.")
    waiting_for = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The roles (therapist, prescriber) still to acknowledge it, whoever holds them now.",
    )
    fully_acknowledged = serializers.BooleanField(read_only=True)
    acknowledgements = AlertAcknowledgementSerializer(many=True, read_only=True)
    recipients = serializers.SerializerMethodField(help_text="Who it was sent to, in which role, when and why.")

    class Meta:
        model = SafetyAlert
        fields = [
            "id",
            "patient",
            "kind",
            "kind_label",
            "severity",
            "reason",
            "source_type",
            "source_id",
            "raised_at",
            "open_for_me",
            "waiting_for",
            "fully_acknowledged",
            "acknowledgements",
            "recipients",
        ]
        read_only_fields = fields

    @extend_schema_field(AlertRecipientSerializer(many=True))
    def get_recipients(self, alert) -> list[dict]:
        acknowledgements = {a.clinician_id: a for a in alert.acknowledgements.all()}
        rows = []
        for recipient in alert.recipients.all():
            acknowledgement = acknowledgements.get(recipient.clinician_id)
            rows.append(
                {
                    "clinician_id": recipient.clinician_id,
                    "clinician": recipient.clinician,
                    "role": recipient.role,
                    "via": recipient.via,
                    "sent_at": recipient.sent_at,
                    "acknowledged_at": acknowledgement.acknowledged_at if acknowledgement else None,
                    "note": acknowledgement.note if acknowledgement else None,
                }
            )
        return AlertRecipientSerializer(rows, many=True).data


class AlertQuerySerializer(serializers.Serializer):
    patient = serializers.UUIDField(required=False, help_text="Only this patient's alerts.")
    open = serializers.BooleanField(required=False, default=False, help_text="Only alerts waiting for you.")


class AcknowledgeSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="The action you took, e.g. “Called the patient”.")


@extend_schema(tags=["alerts"])
class SafetyAlertViewSet(PatientScopedViewSet):
    """Safety alerts about the caller's patients, those waiting for the caller's acknowledgement first."""

    scope = staticmethod(selectors.visible_safety_alerts)
    model = SafetyAlert
    serializer_class = SafetyAlertSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        parameters=[
            OpenApiParameter("patient", str, description="Only this patient's alerts (a UUID)."),
            OpenApiParameter("open", bool, description="Only the alerts still waiting for your acknowledgement."),
        ]
    )
    def list(self, request):
        query = AlertQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        alerts = self.filter_by_patient(self.get_queryset(), Permission.VIEW_SAFETY_ALERTS, whole_list_by_role=True)
        alerts = only_openable_alerts(request.user, alerts)
        if query.validated_data["open"]:
            alerts = alerts.filter(open_for_me=True)
        page = self.audited_page(alerts)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        alert = self.get_object()
        require_safety_alert(request.user, Permission.VIEW_SAFETY_ALERTS, alert)
        return Response(self.get_serializer(self.audited_read(alert)).data)

    @extend_schema(request=AcknowledgeSerializer, responses=SafetyAlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge with the action you took, as the patient's therapist or prescriber now (or as a coordinator
        it was escalated to): 200 with who has acknowledged; 409 if you, or someone in your role, already did;
        403 for a patient or a coordinator it was not escalated to."""
        alert = self.get_object()
        require_safety_alert(request.user, Permission.ACKNOWLEDGE_SAFETY_ALERT, alert)
        serializer = AcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.safety_alert_acknowledge(actor=request.user, alert=alert, note=serializer.validated_data["note"])
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)

"""The reminder delivery log over the API: `GET /api/v1/reminders/` (`?patient=`, `?status=`) and
`GET /api/v1/reminders/{id}/`. Read-only: reminders are planned and sent by the system."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from patients.api_base import PATIENT_FILTER, PatientScopedViewSet

from . import selectors
from .models import Reminder


class ReminderSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    recipient = serializers.UUIDField(source="recipient_id", allow_null=True, read_only=True)
    recipient_name = serializers.SerializerMethodField()
    to_chaperone = serializers.SerializerMethodField(help_text="Sent to the chaperone's e-mail address.")

    class Meta:
        model = Reminder
        fields = [
            "id",
            "patient",
            "kind",
            "kind_label",
            "channel",
            "recipient",
            "recipient_name",
            "to_chaperone",
            "due_at",
            "status",
            "attempts",
            "last_error",
            "sent_at",
        ]
        read_only_fields = fields

    def get_recipient_name(self, reminder) -> str:
        return str(reminder.recipient) if reminder.recipient_id else "Chaperone"

    def get_to_chaperone(self, reminder) -> bool:
        return reminder.recipient_id is None


class ReminderQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Reminder.Status.choices, required=False)


@extend_schema(tags=["reminders"])
class ReminderViewSet(PatientScopedViewSet):
    """Reminders about the caller's patients: what was sent to whom and when, and what failed and why."""

    scope = staticmethod(selectors.visible_reminders)
    model = Reminder
    serializer_class = ReminderSerializer
    http_method_names = ["get", "head", "options"]

    @extend_schema(
        parameters=[
            PATIENT_FILTER,
            OpenApiParameter("status", str, enum=Reminder.Status.values, description="Only reminders in this status."),
        ]
    )
    def list(self, request):
        query = ReminderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reminders = self.filter_by_patient(self.get_queryset(), Permission.VIEW_REMINDERS, whole_list_by_role=True)
        if "status" in query.validated_data:
            reminders = reminders.filter(status=query.validated_data["status"])
        page = self.audited_page(selectors.for_list(reminders))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        reminder = self.get_object()
        access.require(request.user, Permission.VIEW_REMINDERS, reminder)
        return Response(self.get_serializer(self.audited_read(reminder)).data)

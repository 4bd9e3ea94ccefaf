from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from kapcare.api.base import AuditedDenialsMixin
from kapcare.audit.models import AuditEvent
from kapcare.audit.serializers import AuditEventSerializer

from .selectors import access_history


class AuditQuerySerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient whose access history to list.")
    outcome = serializers.ChoiceField(
        choices=AuditEvent.Outcome.choices, required=False, help_text="Only allowed or only refused attempts."
    )
    actor = serializers.UUIDField(required=False, help_text="Only what this user did (their id).")
    since = serializers.DateField(required=False, help_text="From this day on (UTC), YYYY-MM-DD.")
    until = serializers.DateField(required=False, help_text="Up to and including this day (UTC), YYYY-MM-DD.")

    def validate(self, data):
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise serializers.ValidationError({"until": "The end date is before the start date."})
        return data


class AuditEventViewSet(AuditedDenialsMixin, viewsets.GenericViewSet):
    """Who read or changed a patient's record, newest first; filter by outcome, actor and dates."""

    serializer_class = AuditEventSerializer
    audit_object_type = "audit.auditevent"

    @extend_schema(parameters=[AuditQuerySerializer], responses=AuditEventSerializer(many=True))
    def list(self, request):
        query = AuditQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        _patient, events = access_history(request.user, filters.pop("patient"), filters=filters)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

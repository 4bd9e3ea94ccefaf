from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets

from kapcare.api.base import AuditedDenialsMixin

from .selectors import access_history
from .serializers import AuditEventSerializer


class AuditQuerySerializer(serializers.Serializer):
    patient = serializers.UUIDField(help_text="The patient whose access history to list.")


class AuditEventViewSet(AuditedDenialsMixin, viewsets.GenericViewSet):
    """Who read or changed a patient's record, newest first."""

    serializer_class = AuditEventSerializer
    audit_object_type = "audit.auditevent"

    @extend_schema(
        parameters=[OpenApiParameter("patient", OpenApiTypes.UUID, required=True)],
        responses=AuditEventSerializer(many=True),
    )
    def list(self, request):
        query = AuditQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        _patient, events = access_history(request.user, query.validated_data["patient"])
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

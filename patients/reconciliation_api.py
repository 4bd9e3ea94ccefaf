"""API for the coordinators' queue of referrals whose e-mail address KAPCare already knew (scoped and audited)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ScopedViewSet

from . import selectors, services
from .access import visible_reconciliations
from .models import ReferralReconciliation


class ReferralReconciliationSerializer(serializers.ModelSerializer):
    """What the therapist sent and the record it may be about, for the coordinator to compare."""

    referred_by = serializers.StringRelatedField()
    resolved_by = serializers.StringRelatedField()
    existing_patient = serializers.SerializerMethodField(help_text="The patient on record with this address, if any.")

    class Meta:
        model = ReferralReconciliation
        fields = [
            "id",
            "status",
            "created_at",
            "referred_by",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "state",
            "existing_patient",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields

    def get_existing_patient(self, entry) -> dict | None:
        patient = entry.existing_patient
        if patient is None:
            return None
        return {
            "id": str(patient.pk),
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "state": patient.state,
            "joined": patient.user_id is not None,
        }


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReconciliationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ReferralReconciliation.Status.choices, required=False, help_text="Default: pending."
    )


class ReferralReconciliationViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Referrals of known addresses waiting for a coordinator: link to the existing record, or decline."""

    scope = staticmethod(visible_reconciliations)
    patient_field = "existing_patient_id"
    model = ReferralReconciliation
    serializer_class = ReferralReconciliationSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(parameters=[ReconciliationQuerySerializer])
    def list(self, request):
        access.require(request.user, Permission.RECONCILE_REFERRAL, object_type="patients.referralreconciliation")
        query = ReconciliationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        status = query.validated_data.get("status", ReferralReconciliation.Status.PENDING)
        page = self.audited_page(selectors.reconciliations_for_list(request.user, status=status))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        entry = self.audited_read(self.get_object())
        return Response(self.get_serializer(entry).data)

    @extend_schema(request=ResolveSerializer, responses=ReferralReconciliationSerializer)
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        return self._resolve(request, services.reconciliation_link)

    @extend_schema(request=ResolveSerializer, responses=ReferralReconciliationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._resolve(request, services.reconciliation_decline)

    def _resolve(self, request, service):
        entry = self.get_object()
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = service(actor=request.user, entry=entry, note=body.validated_data.get("note", ""))
        return Response(self.get_serializer(entry).data)

"""Prescriptions over the API: `/api/v1/prescriptions/` (list, issue; `cancel`, `fills`, `pdf`) and
`/api/v1/pdmp-checks/`. Patients read their own prescriptions; clinicians their team's; coordinators none."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare.access import Permission
from kapcare.api.serializers import StrictFieldsMixin
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from treatment.course.api import CourseScopedViewSet

from . import pdf, selectors, services
from .models import PDMPCheck, Prescription, PrescriptionFill


class PrescriptionSerializer(serializers.ModelSerializer):
    dea_number = serializers.CharField(source="dea_registration.number", read_only=True)
    dea_state = serializers.CharField(source="dea_registration.state", read_only=True)

    class Meta:
        model = Prescription
        fields = [
            "id",
            "patient",
            "dose_plan",
            "prescriber",
            "dea_number",
            "dea_state",
            "pdmp_check",
            "medication",
            "formulation",
            "strength_mg",
            "directions",
            "quantity",
            "quantity_derived",
            "quantity_reason",
            "refills",
            "days_supply",
            "pharmacy_name",
            "pharmacy_address",
            "pharmacy_phone",
            "pharmacy_ncpdp_id",
            "issued_on",
            "channel",
            "evaluation_encounter",
            "last_in_person_on",
            "telemedicine_attested",
            "refills_left_reason",
            "status",
            "cancelled_at",
            "cancel_reason",
            "content_hash",
        ]
        read_only_fields = fields


class PrescriptionCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    strength_mg = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True)
    directions = serializers.CharField(max_length=2000)
    quantity = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True)
    quantity_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    refills = serializers.IntegerField(min_value=0, default=0)
    days_supply = serializers.IntegerField(min_value=1, max_value=180)
    pharmacy_name = serializers.CharField(max_length=200)
    pharmacy_address = serializers.CharField(max_length=300)
    pharmacy_phone = serializers.CharField(max_length=30)
    pharmacy_ncpdp_id = serializers.RegexField(r"^\d{7}$")
    channel = serializers.ChoiceField(choices=Prescription.Channel.choices)
    telemedicine_attested = serializers.BooleanField(default=False)
    refills_left_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CancelSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class FillSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = PrescriptionFill
        fields = ["id", "number", "filled_on", "method", "quantity", "recorded_at"]
        read_only_fields = ["id", "number", "recorded_at"]
        extra_kwargs = {"quantity": {"required": False}}


class PDMPCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = PDMPCheck
        fields = ["id", "patient", "prescriber", "checked_on", "state", "result", "note", "created_at"]
        read_only_fields = fields


class PDMPCheckCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    checked_on = serializers.DateField()
    state = serializers.CharField(max_length=2)
    result = serializers.ChoiceField(choices=PDMPCheck.Result.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


@extend_schema(tags=["prescriptions"])
class PrescriptionViewSet(CourseScopedViewSet):
    """Prescriptions, newest first. POST issues one for the active signed dose plan (409 names the refused rule:
    PDMP check, DEA registration, Schedule III limits, quantity bound by the plan)."""

    scope = staticmethod(selectors.visible_prescriptions)
    model = Prescription
    serializer_class = PrescriptionSerializer
    view_permission = Permission.VIEW_PRESCRIPTIONS
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=PrescriptionCreateSerializer, responses={201: PrescriptionSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.WRITE_PRESCRIPTION)
        serializer = PrescriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("patient")
        rx = services.prescription_issue(actor=request.user, patient=patient, data=data)
        return Response(self.get_serializer(rx).data, status=201)

    @extend_schema(request=CancelSerializer, responses=PrescriptionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        rx = self.get_object()
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rx = services.prescription_cancel(actor=request.user, prescription=rx, **serializer.validated_data)
        return Response(self.get_serializer(rx).data)

    @extend_schema(request=FillSerializer, responses={201: FillSerializer})
    @action(detail=True, methods=["post"])
    def fills(self, request, pk=None):
        rx = self.get_object()
        serializer = FillSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fill = services.fill_record(actor=request.user, prescription=rx, **serializer.validated_data)
        return Response(FillSerializer(fill).data, status=201)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The printable prescription.")})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        rx = self._visible_object()
        audit_record(request.user, AuditEvent.Action.READ, rx, fields=["pdf"])
        response = HttpResponse(pdf.prescription_pdf(rx), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="prescription-{rx.pk}.pdf"'
        return response


@extend_schema(tags=["prescriptions"])
class PDMPCheckViewSet(CourseScopedViewSet):
    """PDMP checks the prescriber attested, newest first; POST attests one."""

    scope = staticmethod(selectors.visible_pdmp_checks)
    model = PDMPCheck
    serializer_class = PDMPCheckSerializer
    view_permission = Permission.WRITE_PRESCRIPTION
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=PDMPCheckCreateSerializer, responses={201: PDMPCheckSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.WRITE_PRESCRIPTION)
        serializer = PDMPCheckCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("patient")
        check = services.pdmp_check_record(actor=request.user, patient=patient, **data)
        return Response(self.get_serializer(check).data, status=201)

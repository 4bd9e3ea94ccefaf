"""Prescriptions over the API: `/api/v1/prescriptions/` (list, issue; `cancel`, `fills`, `pdf`) and
`/api/v1/pdmp-checks/`. Patients read their own prescriptions; clinicians their team's; coordinators none."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import AuditedDenialsMixin
from kapcare.api.serializers import StrictFieldsMixin
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record, audit_record_many
from treatment.course.api import CourseScopedViewSet

from . import pdf, selectors, services, stock
from .models import MedicineCount, PDMPCheck, Prescription, PrescriptionFill, StockEntry


def _patient_and_data(view, request, serializer_class, permission):
    """The patient the body names (looked up through access first) and the rest of the validated body."""
    patient = view._target_patient(request.data, permission)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data.pop("patient")
    return patient, data


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
        patient, data = _patient_and_data(self, request, PrescriptionCreateSerializer, Permission.WRITE_PRESCRIPTION)
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


@extend_schema(tags=["pdmp checks"])
class PDMPCheckViewSet(CourseScopedViewSet):
    """PDMP checks the prescriber attested, newest first; POST attests one."""

    scope = staticmethod(selectors.visible_pdmp_checks)
    model = PDMPCheck
    serializer_class = PDMPCheckSerializer
    view_permission = Permission.WRITE_PRESCRIPTION
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=PDMPCheckCreateSerializer, responses={201: PDMPCheckSerializer})
    def create(self, request):
        patient, data = _patient_and_data(self, request, PDMPCheckCreateSerializer, Permission.WRITE_PRESCRIPTION)
        check = services.pdmp_check_record(actor=request.user, patient=patient, **data)
        return Response(self.get_serializer(check).data, status=201)


class MedicineCountSerializer(serializers.ModelSerializer):
    discrepancy = serializers.DecimalField(max_digits=6, decimal_places=1, read_only=True)

    class Meta:
        model = MedicineCount
        fields = ["id", "patient", "session", "source", "remaining", "expected", "discrepancy", "recorded_at"]
        read_only_fields = fields


class MedicineCountCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    remaining = serializers.DecimalField(max_digits=6, decimal_places=1, min_value=0)
    session = serializers.UUIDField(required=False, allow_null=True, help_text="The dosing session counted at.")


@extend_schema(tags=["medicine counts"])
class MedicineCountViewSet(CourseScopedViewSet):
    """Take-home tablets remaining (the patient's report, or a count at a dosing session) against what the fills
    and doses leave; a mismatch raises a safety alert to the prescriber."""

    scope = staticmethod(selectors.visible_medicine_counts)
    model = MedicineCount
    serializer_class = MedicineCountSerializer
    view_permission = Permission.VIEW_PRESCRIPTIONS
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=MedicineCountCreateSerializer, responses={201: MedicineCountSerializer})
    def create(self, request):
        patient, data = _patient_and_data(self, request, MedicineCountCreateSerializer, Permission.RECORD_FILL)
        session = None
        if data.get("session"):
            session = selectors.dosing_session_of(request.user, patient, data["session"])
            if session is None:
                raise ValidationError({"session": "No such session of this patient."})
        count = stock.medicine_count_record(
            actor=request.user, patient=patient, remaining=data["remaining"], session=session
        )
        return Response(self.get_serializer(count).data, status=201)


class StockEntrySerializer(serializers.ModelSerializer):
    discrepancy_mg = serializers.DecimalField(max_digits=8, decimal_places=1, read_only=True)

    class Meta:
        model = StockEntry
        fields = [
            "id",
            "kind",
            "lot",
            "expires_on",
            "quantity_mg",
            "expected_mg",
            "discrepancy_mg",
            "session",
            "witness",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class StockEntryCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    site = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=StockEntry.Kind.choices)
    lot = serializers.CharField(max_length=50)
    quantity_mg = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=0)
    expires_on = serializers.DateField(required=False, allow_null=True, help_text="A receipt: the lot's expiry.")
    session = serializers.UUIDField(required=False, allow_null=True, help_text="An administration: its session.")
    witness = serializers.UUIDField(required=False, allow_null=True, help_text="Waste: the second clinician.")
    witness_password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Waste: the witness's own password, typed by the witness at the moment of the waste.",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


def _site_summary(user, site):
    """A site's log as the web page shows it, audited the same way: the site read, and each entry naming a patient."""
    entries = selectors.stock_site_log(site)
    audit_record(user, AuditEvent.Action.READ, site)
    audit_record_many(user, AuditEvent.Action.READ, [entry for entry in entries if entry.patient_id])
    return {
        "id": str(site.pk),
        "name": site.name,
        "balance_mg": str(stock.site_balance(site)),
        "entries": StockEntrySerializer(entries, many=True).data,
        "discrepancies": [
            {"entry": str(found.entry.pk), "what": found.what} for found in stock.discrepancy_report(site)
        ],
    }


class StockLogView(AuditedDenialsMixin, APIView):
    """`GET /api/v1/stock-log/`: each site whose log the user keeps (every site of a prescriber's medical group, the
    sites a clinician works at) with its running balance, entries and discrepancy report. `POST`: a receipt,
    administration, witnessed waste or count (409 names a refused rule, e.g. a negative balance). A waste names
    the witness and carries the witness's own password (`witness_password`): a wrong one is 400 and writes no
    entry."""

    audit_object_type = "treatment.stockentry"
    lookup_url_kwarg, lookup_field = None, "pk"  # AuditedDenialsMixin reads them; this view has no object id

    @extend_schema(tags=["stock log"], responses=OpenApiResponse(description="Sites and their logs."))
    def get(self, request):
        access.require(request.user, Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stocksite")
        sites = selectors.stock_sites_of(request.user)
        return Response({"sites": [_site_summary(request.user, site) for site in sites]})

    @extend_schema(tags=["stock log"], request=StockEntryCreateSerializer, responses={201: StockEntrySerializer})
    def post(self, request):
        access.require(request.user, Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stockentry")
        serializer = StockEntryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        site_id = data.pop("site")
        site = selectors.stock_site_of(request.user, site_id)
        if site is None:
            audit_denied(request.user, AuditEvent.Action.CREATE, object_type="treatment.stocksite", object_id=site_id)
            raise Http404("No such site, or you do not keep its log.")
        entry = _write_entry(request.user, site, data)
        return Response(StockEntrySerializer(entry).data, status=201)


def _write_entry(actor, site, data):
    kind, lot, note = data["kind"], data["lot"], data.get("note", "")
    if kind == StockEntry.Kind.RECEIPT:
        return stock.stock_receive(
            actor=actor,
            site=site,
            lot=lot,
            expires_on=data.get("expires_on"),
            quantity_mg=data["quantity_mg"],
            note=note,
        )
    if kind == StockEntry.Kind.COUNT:
        return stock.stock_count(actor=actor, site=site, lot=lot, counted_mg=data["quantity_mg"], note=note)
    if kind == StockEntry.Kind.WASTE:
        witness = selectors.clinician(data.get("witness"))
        if witness is None:
            raise ValidationError({"witness": "Name the clinician who witnessed the waste."})
        return stock.stock_waste(
            actor=actor,
            site=site,
            lot=lot,
            quantity_mg=data["quantity_mg"],
            witness=witness,
            witness_password=data.get("witness_password", ""),
            note=note,
        )
    session = selectors.site_session(actor, site, data.get("session"))
    if session is None:
        raise ValidationError({"session": "Name the dosing session of one of your patients of this medical group."})
    return stock.stock_administer(actor=actor, site=site, lot=lot, session=session, quantity_mg=data["quantity_mg"])

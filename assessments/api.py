from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.errors import Conflict
from kapcare.api.serializers import PatientRefSerializer
from patients.api_base import PatientScopedViewSet

from . import selectors, services
from .models import Intake
from .serializers import (
    IntakeAnswersSerializer,
    IntakeClinicalSerializer,
    IntakeStatusSerializer,
)

ROLE_FIELDS_NOTE = (
    "Fields depend on the caller: the clinicians on the care team get answers, medicines and screening flags; "
    "the patient gets their answers and medicines, never flags; a coordinator gets the status and flag count."
)


@extend_schema(responses=IntakeClinicalSerializer, description=ROLE_FIELDS_NOTE)
class IntakeViewSet(PatientScopedViewSet, mixins.ListModelMixin):
    """Intakes of the patients the caller may see. A draft is changed with PATCH and locked by `submit`."""

    scope = staticmethod(selectors.intakes_for_caller)
    model = Intake
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_serializer_class(self):
        user = self.request.user
        if access.can(user, Permission.VIEW_SCREENING_FLAGS):
            return IntakeClinicalSerializer
        if access.can(user, Permission.VIEW_INTAKE_DETAIL):
            return IntakeAnswersSerializer
        return IntakeStatusSerializer

    def _reloaded(self, intake):
        return self.get_serializer(self.get_queryset().get(pk=intake.pk)).data

    @extend_schema(
        parameters=[OpenApiParameter("patient", str, description="Only this patient's intakes (a UUID).")],
        description=ROLE_FIELDS_NOTE,
    )
    def list(self, request):
        intakes = self.filter_by_patient(self.get_queryset(), Permission.VIEW_PATIENT)
        page = self.audited_page(intakes)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=PatientRefSerializer, responses={201: IntakeAnswersSerializer})
    def create(self, request):
        """Start the patient's intake as an empty draft; answers then go in with PATCH."""
        patient = self.patient_from_body(request.data, Permission.EDIT_INTAKE)
        if selectors.has_intake(request.user, patient):
            raise Conflict("This patient's intake already exists: change the draft with PATCH.", code="intake_exists")
        intake = services.intake_save_draft(actor=request.user, patient=patient, data={})
        return Response(self._reloaded(intake), status=201)

    def retrieve(self, request, pk=None):
        intake = self.audited_read(self.get_object())
        return Response(self.get_serializer(intake).data)

    @extend_schema(request=IntakeAnswersSerializer)
    def partial_update(self, request, pk=None):
        """Change answers of a draft. `medications`, when sent, replaces the whole medicine list."""
        intake = self.get_object()
        access.require(request.user, Permission.EDIT_INTAKE, intake)
        if intake.is_locked:
            raise services.IntakeLocked(intake)
        serializer = IntakeAnswersSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        medications = data.pop("medications", None)
        if medications is not None:
            medications = [dict(item) for item in medications]
        intake = services.intake_save_draft(
            actor=request.user, patient=intake.patient, data=data, medications=medications, intake=intake
        )
        return Response(self._reloaded(intake))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Check the draft is complete (400 with a message per missing answer), screen it and lock it."""
        intake = self.get_object()
        access.require(request.user, Permission.EDIT_INTAKE, intake)
        if intake.is_locked:
            raise services.IntakeLocked(intake)
        intake = services.intake_submit(actor=request.user, patient=intake.patient, intake=intake)
        return Response(self._reloaded(intake))

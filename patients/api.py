from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ScopedViewSet
from kapcare.versions import version_of

from . import selectors, services
from .models import Patient
from .serializers import (
    IdentityChangeSerializer,
    PatientDetailSerializer,
    PatientSerializer,
    ReferralCreateSerializer,
    ReferralResultSerializer,
)


class PatientViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Patients the caller may see. POST by a therapist is a referral."""

    scope = staticmethod(selectors.patients_for_api)
    patient_field = "pk"
    model = Patient
    serializer_class = PatientSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def list(self, request):
        patients, count = selectors.patient_list_for_api(request.user)
        page = self.audited_page(patients, count=count)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_serializer_class(self):
        if self.action == "create":
            return ReferralCreateSerializer
        if self.action in ("retrieve", "partial_update"):
            return PatientDetailSerializer
        return PatientSerializer

    def retrieve(self, request, pk=None):
        patient = self.audited_read(self.get_object())
        return Response(self.get_serializer(patient).data, headers={"ETag": f'"{version_of(patient)}"'})

    @extend_schema(request=ReferralCreateSerializer, responses={201: ReferralResultSerializer})
    def create(self, request):
        access.require(request.user, Permission.REFER_PATIENT, object_type="patients.patient")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields, referral = serializer.split()
        patient = services.patient_refer(actor=request.user, referral=referral, **fields)
        return Response(ReferralResultSerializer(patient, context=self.get_serializer_context()).data, status=201)

    def partial_update(self, request, pk=None):
        patient = self.get_object()
        access.require(request.user, Permission.CHANGE_PATIENT, patient)
        serializer = self.get_serializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(
            actor=request.user,
            patient=patient,
            expected_version=request.headers.get("If-Match"),
            **serializer.validated_data,
        )
        return Response(self.get_serializer(patient).data, headers={"ETag": f'"{version_of(patient)}"'})

    @extend_schema(responses=IdentityChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="identity-changes")
    def identity_changes(self, request, pk=None):
        """Changes to the patient's name, date of birth, e-mail, phone and state: who, when, before and after."""
        patient = self.get_object()
        changes = selectors.identity_changes(request.user, patient)
        page = self.paginate_queryset(changes)
        self.audited_read(patient)
        return self.get_paginated_response(IdentityChangeSerializer(page, many=True).data)

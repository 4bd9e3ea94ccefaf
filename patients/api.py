from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ScopedViewSet

from . import selectors, services
from .models import Patient
from .serializers import PatientSerializer


class PatientViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Patients the caller may see. POST by a therapist is a referral."""

    scope = staticmethod(selectors.patients_for_list)
    patient_field = "pk"
    queryset = Patient.objects.none()  # for the schema; get_queryset() is always scoped
    serializer_class = PatientSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def list(self, request):
        page = self.audited_page(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        patient = self.audited_read(self.get_object())
        return Response(self.get_serializer(patient).data)

    @extend_schema(responses={201: PatientSerializer})
    def create(self, request):
        access.require(request.user, Permission.REFER_PATIENT, object_type="patients.patient")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_refer(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        patient = self.get_object()
        access.require(request.user, Permission.CHANGE_PATIENT, patient)
        serializer = self.get_serializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(actor=request.user, patient=patient, **serializer.validated_data)
        return Response(self.get_serializer(patient).data)

"""GET /api/v1/patients/{id}/fhir/: the patient's record as a FHIR R4 Bundle (CONTRACT.md)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ScopedViewSet
from patients.access import visible_patients
from patients.models import Patient

from . import fhir, selectors

FHIR_JSON = "application/fhir+json"


class FhirRecordViewSet(ScopedViewSet):
    """Scoped like every read: out of reach 404, a role without EXPORT_RECORD 403 (coordinators read no clinical
    content), both audited; the patient gets their own record. One audit row records the export."""

    scope = staticmethod(visible_patients)
    patient_field = "pk"
    model = Patient

    @extend_schema(
        operation_id="patients_fhir_retrieve",
        summary="The patient's record as a FHIR R4 Bundle (type collection)",
        description=(
            "Patient, Practitioner, CareTeam, Condition, Consent, Encounter, Observation (questionnaire totals with "
            "LOINC codes; vital signs), MedicationRequest, AdverseEvent and DocumentReference. Psychotherapy notes "
            "and the care-team thread are never included."
        ),
        responses={(200, FHIR_JSON): OpenApiTypes.OBJECT},
    )
    def retrieve(self, request, pk=None):
        patient = self.get_object()
        access.require(request.user, Permission.EXPORT_RECORD, patient)
        self.audited_read(patient)
        contents = selectors.record_contents(patient)
        bundle = fhir.record_bundle(contents, base_url=request.build_absolute_uri("/api/v1/fhir"))
        return Response(bundle, content_type=FHIR_JSON)

"""The scoped viewset of a patient's records, with the patient the caller names (kapcare.api.base holds
the scoping itself; the patient lookups live here, next to the patient scope)."""

import uuid

from drf_spectacular.utils import OpenApiParameter

from kapcare import access, prepared
from kapcare.api.base import ScopedViewSet
from kapcare.api.serializers import PatientQuerySerializer, PatientRefSerializer
from kapcare.audit.models import AuditEvent

from .access import visible_patients

PATIENT_FILTER = OpenApiParameter("patient", str, description="Only this patient's records (a UUID).")


# Built once per role (kapcare.prepared): every list of one patient's records looks the patient up first.
_VISIBLE_PATIENT = prepared.Prepared(
    lambda shape, values: visible_patients(prepared.user_of(shape, values)).filter(pk=values.patient_id),
    slots={**prepared.USER_SLOTS, "patient_id": uuid.UUID},
)


class PatientScopedViewSet(ScopedViewSet):
    """A ScopedViewSet of records that belong to a patient: lists narrow to `?patient=`, writes name theirs."""

    # Patients named by the caller: in `?patient=` or in a POST body. Both go through kapcare.access:
    # 400 for a malformed id, 404 (audited) out of reach, 403 (audited) for a role that may not.

    def patient_named(self, patient_id, permission, action):
        user = self.request.user
        found = []
        if isinstance(patient_id, uuid.UUID):  # as the serializers give it
            found = _VISIBLE_PATIENT(prepared.user_shape(user), **prepared.user_values(user), patient_id=patient_id)
        # A miss: get_visible asks again, audits the attempt and answers 404.
        patient = (
            found[0] if found else access.get_visible(visible_patients(user), patient_id, user=user, action=action)
        )
        access.require(user, permission, patient)
        return patient

    def patient_from_body(self, data, permission):
        ref = PatientRefSerializer(data={"patient": data.get("patient")} if hasattr(data, "get") else {})
        ref.is_valid(raise_exception=True)
        return self.patient_named(ref.validated_data["patient"], permission, AuditEvent.Action.CREATE)

    def patient_from_query(self, permission):
        """The patient of `?patient=`, or None when the list is not narrowed to one."""
        query = PatientQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        patient_id = query.validated_data.get("patient")
        return None if patient_id is None else self.patient_named(patient_id, permission, AuditEvent.Action.READ)

    def filter_by_patient(self, queryset, permission, *, whole_list_by_role=False):
        """Narrow a list to `?patient=`. With `whole_list_by_role`, the unnarrowed list also needs the
        role to hold `permission` (clinical records), instead of being merely empty for other roles."""
        patient = self.patient_from_query(permission)
        if patient is not None:
            return queryset.filter(patient=patient)
        if whole_list_by_role:
            access.require(self.request.user, permission, object_type=self.audit_object_type)
        return queryset

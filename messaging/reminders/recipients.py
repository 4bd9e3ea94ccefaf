"""Who a reminder goes to on a patient's care team: shared by the kinds and by the hooks that plan for them."""

from collections import defaultdict

from patients.models import CareTeamMember


def team(patient_ids, role):
    """{patient id: [clinician ids]} of the active care team in one role. One query."""
    members = defaultdict(list)
    rows = CareTeamMember.objects.active().filter(patient_id__in=set(patient_ids), role=role)
    for patient_id, clinician_id in rows.values_list("patient_id", "clinician_id"):
        members[patient_id].append(clinician_id)
    return members

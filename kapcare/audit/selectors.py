from django.db.models import Q

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record


def access_history(user, patient_id):
    """Who read or changed this patient's record: for the patient and their clinicians.
    Outsiders get 404, other roles 403, and looking at the history is itself recorded."""
    patient = access.get_visible(access.visible_patients(user), patient_id, user=user, action=AuditEvent.Action.READ)
    access.require(user, Permission.VIEW_ACCESS_HISTORY, patient)
    audit_record(user, AuditEvent.Action.READ, patient)
    events = AuditEvent.objects.filter(patient=patient).select_related("actor")
    # Even that a psychotherapy note exists is its author's alone: others do not see the rows about one.
    private = Q(object_type=access.PRIVATE_NOTE_TYPE) & ~Q(actor=user)
    return patient, events.exclude(private)

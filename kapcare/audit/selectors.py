from datetime import UTC, datetime, time, timedelta

from django.db.models import Q

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record


def access_history(user, patient_id, *, filters=None):
    """Who read or changed this patient's record: for the patient and their clinicians.
    Outsiders get 404, other roles 403, and looking at the history is itself recorded.
    `filters` (validated by kapcare.audit.forms.AccessHistoryFilter): outcome, actor, since, until (UTC dates)."""
    patient = access.get_visible(access.visible_patients(user), patient_id, user=user, action=AuditEvent.Action.READ)
    access.require(user, Permission.VIEW_ACCESS_HISTORY, patient)
    audit_record(user, AuditEvent.Action.READ, patient)
    events = AuditEvent.objects.filter(patient=patient).select_related("actor")
    # Even that a psychotherapy note exists is its author's alone: others see no row about one but their own.
    # The author sees every row about their notes, refused attempts by others included.
    private = Q(object_type=access.PRIVATE_NOTE_TYPE) & ~Q(actor=user) & ~Q(object_id__in=_own_note_ids(user, patient))
    return patient, filter_history(events.exclude(private), filters or {})


def _own_note_ids(user, patient):
    if not access.can(user, Permission.WRITE_PSYCHOTHERAPY_NOTE):
        return []
    notes = access.visible_psychotherapy_notes(user).filter(patient=patient)
    return [str(pk) for pk in notes.values_list("pk", flat=True)]


def _start_of(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def filter_history(events, filters):
    """Narrow an access history to validated filters (outcome, actor, since, until)."""
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("actor"):
        events = events.filter(actor_id=filters["actor"])
    if filters.get("since"):
        events = events.filter(at__gte=_start_of(filters["since"]))
    if filters.get("until"):
        events = events.filter(at__lt=_start_of(filters["until"] + timedelta(days=1)))
    return events

"""Writes: the patient's reminder preferences. Planning and delivery are in outbox.py (the system acts)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record

from . import kinds
from .models import ReminderPreference


@transaction.atomic
def preference_save(*, actor, patient, quiet_start, quiet_end, muted_kinds) -> ReminderPreference:
    """The patient's quiet hours and the optional reminders they turned off. Essential kinds cannot be
    turned off. `patient` must be the actor's own record (from kapcare.access)."""
    access.require(actor, Permission.EDIT_OWN_PROFILE, patient)
    optional = set(kinds.non_essential_patient_kinds())
    refused = [code for code in muted_kinds if code not in optional]
    if refused:
        raise ValidationError({"wanted": "Only optional reminders can be turned off."})
    preference, created = ReminderPreference.objects.select_for_update().get_or_create(patient=patient)
    preference.quiet_start, preference.quiet_end = quiet_start, quiet_end
    preference.muted_kinds = sorted(set(muted_kinds))
    preference.save()
    audit_record(actor, AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE, preference)
    return preference

"""Writes to clinicians' credentials. Keyword-only, actor first, atomic, audited.

Licences, DEA registrations and KAP training are recorded in the admin this round (audited there); the
network app of ARCHITECTURE.md will verify them through these services. A coordinator records here the
documented exception that lets a therapist refer clients from a state their licences do not cover.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.us_states import USState

from .models import ReferralStateException, User


def referral_exception_grant(*, actor, therapist, state: str, reason: str) -> ReferralStateException:
    """A coordinator lets `therapist` (found through access.visible_clinicians) refer clients living in `state`,
    saying why. Refused without a reason; a second exception for the same state is not needed."""
    access.require(actor, Permission.GRANT_REFERRAL_EXCEPTION, object_type="accounts.referralstateexception")
    return _referral_exception_grant(actor=actor, therapist=therapist, state=state, reason=reason)


@transaction.atomic
def _referral_exception_grant(*, actor, therapist, state, reason):
    reason = (reason or "").strip()
    errors = {}
    if therapist.role != User.Role.THERAPIST:
        errors["therapist"] = "Only a therapist refers clients."
    if state not in USState.values:
        errors["state"] = "Choose a state."
    if not reason:
        errors["reason"] = "Write why the exception is justified (for example the compact or licence checked)."
    elif len(reason) > 2000:
        errors["reason"] = "Keep the reason under 2,000 characters."
    if errors:
        raise ValidationError(errors)
    existing = ReferralStateException.objects.filter(therapist=therapist, state=state, revoked_at__isnull=True).first()
    if existing is not None:
        raise ValidationError({"state": f"An exception for {USState(state).label} is already on record."})
    exception = ReferralStateException.objects.create(therapist=therapist, state=state, reason=reason, granted_by=actor)
    audit_record(actor, AuditEvent.Action.CREATE, exception)
    return exception

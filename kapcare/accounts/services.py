"""Writes to accounts: clinicians' credentials and API tokens. Keyword-only, actor first, atomic, audited.

Licences, DEA registrations and KAP training are recorded in the admin this round (audited there); the
network app of ARCHITECTURE.md will verify them through these services. A coordinator records here the
documented exception that lets a therapist refer clients from a state their licences do not cover.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from knox.models import AuthToken

from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.services import service
from kapcare.us_states import USState

from .models import ApiToken, KAPTraining, ReferralStateException, User


@service(Permission.GRANT_REFERRAL_EXCEPTION, object_type="accounts.referralstateexception")
def referral_exception_grant(*, actor, therapist, state: str, reason: str) -> ReferralStateException:
    """A coordinator lets `therapist` (found through access.visible_clinicians) refer clients living in `state`,
    saying why. Refused without a reason; a second exception for the same state is not needed."""
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


def api_token_create(*, actor, user, name, days):
    """A new API token for `user`, who must be the actor (the portal) or None (`manage.py issue_api_token`).

    Returns (ApiToken, the token string); the string is shown once and only its hash is kept."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("An API token can only be created by the person it belongs to.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, so you recognise it later."})
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError({"days": f"A token expires after 1 to {settings.API_TOKEN_MAX_DAYS} days."})
    if not user.is_active:
        raise ValidationError("This account is deactivated.")
    with transaction.atomic():
        auth_token, token = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        api_token = ApiToken.objects.create(auth_token=auth_token, name=name[:100])
        audit_record(actor, AuditEvent.Action.CREATE, api_token)
    return api_token, token


def api_token_revoke(*, actor, api_token):
    """Revoke one of the actor's own tokens: it stops working at once."""
    if api_token.auth_token.user_id != actor.pk:
        raise PermissionDenied("Only the person a token belongs to can revoke it.")
    with transaction.atomic():
        audit_record(actor, AuditEvent.Action.DELETE, api_token)
        api_token.auth_token.delete()


def api_tokens_revoke_all(*, actor, user):
    """Every API token of `user` stops working (their password changed, or the account was deactivated)."""
    with transaction.atomic():
        tokens = list(ApiToken.objects.filter(auth_token__user=user))
        for api_token in tokens:
            audit_record(actor, AuditEvent.Action.DELETE, api_token)
        return AuthToken.objects.filter(user=user).delete()[0]


@transaction.atomic
def kap_training_record(
    *, actor, clinician, completed_on, provider: str, title: str, certificate_number: str = ""
) -> KAPTraining:
    """Record that `clinician` completed KAP training (credentials.py reads it before a signature or a referral).
    Called by the network's training service when a coordinator verifies a completion; recording the same
    course completion again returns the row already kept."""
    if clinician.role not in User.CLINICIAN_ROLES:
        raise ValidationError("Only a therapist or a prescriber has KAP training recorded.")
    training, created = KAPTraining.objects.get_or_create(
        clinician=clinician,
        completed_on=completed_on,
        title=title[:200],
        provider=provider[:200],
        defaults={"certificate_number": certificate_number[:100]},
    )
    if created:
        audit_record(actor, AuditEvent.Action.CREATE, training)
    return training

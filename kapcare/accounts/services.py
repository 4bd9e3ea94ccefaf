"""Writes to accounts: clinicians' credentials and API tokens. Keyword-only, actor first, atomic, audited.

Licences, DEA registrations and KAP training are recorded in the admin this round (audited there); the
network app of ARCHITECTURE.md will verify them through these services. A coordinator records here the
documented exception that lets a therapist refer clients from a state their licences do not cover.
"""

from datetime import timedelta

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.celery import enqueue_on_commit
from kapcare.services import service
from kapcare.us_states import USState

from .models import ApiToken, ClinicianProfile, DEARegistration, KAPTraining, Licence, ReferralStateException, User


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


def clinician_account_open(
    *,
    actor,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    organization,
    npi: str,
    licences: list[dict],
    dea_registrations: list[dict],
    training: dict | None = None,
) -> User:
    """Open the account of a clinician the network approved (network.joining calls this inside its approval).

    The account has a verified e-mail address and no usable password: the clinician sets one from the e-mailed
    link (allauth's password reset flow) and enrols a second factor at first sign-in (RequireMFAMiddleware). It
    carries the network's approval and the credentials as verified: `licences` and `dea_registrations` are dicts
    of the model fields (state, number, expires_on, verified_at, verified_by, verification_note; a licence's
    kind), `training` those of KAPTraining when the applicant's training was verified."""
    access.require(actor, Permission.REVIEW_APPLICATION, object_type="accounts.user")
    if role not in User.CLINICIAN_ROLES:
        raise ValidationError({"role": "Only a therapist or a prescriber joins the network."})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "A KAPCare account with this e-mail address exists already."})
    with transaction.atomic():
        user = User.objects.create_user(
            email=email, first_name=first_name, last_name=last_name, role=role, organization=organization
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        profile = ClinicianProfile.objects.create(user=user, npi=npi, approved_at=timezone.now(), approved_by=actor)
        facts = [profile]
        facts += [Licence.objects.create(clinician=user, **fields) for fields in licences]
        facts += [DEARegistration.objects.create(clinician=user, **fields) for fields in dea_registrations]
        if training:
            facts.append(KAPTraining.objects.create(clinician=user, **training))
        for fact in [user, *facts]:
            audit_record(actor, AuditEvent.Action.CREATE, fact)
        enqueue_on_commit(WELCOME_TASK, user.pk)
    return user


WELCOME_TASK = "kapcare.accounts.tasks.email_clinician_welcome"


def clinician_welcome_email(*, user_id) -> bool:
    """E-mail a newly approved clinician the link to set their password (allauth's reset link: single use, it
    stops working once the password is set). Nothing but their name and the link."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password():
        return False
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    send_mail(
        subject="Welcome to the KAPCare network",
        message=render_to_string(
            "accounts/email/welcome.txt", {"first_name": user.first_name, "link": settings.KAPCARE_BASE_URL + path}
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True


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

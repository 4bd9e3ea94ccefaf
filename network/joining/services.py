"""Writes to applications: keyword-only, actor first, atomic, audited. Approval writes the account and the
verified credentials into kapcare.accounts through its service; nothing here writes accounts' tables."""

import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.accounts import services as account_services
from kapcare.accounts.models import Organization, User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused

from . import selectors
from .models import Application, ApplicationDEARegistration, ApplicationLicence, CredentialCheck, npi_is_valid


class LinkUnusable(Exception):
    """The applicant's link is unknown, expired, or the application is no longer waiting for them."""


def _email_is_taken(email):
    return (
        User.objects.filter(email__iexact=email).exists()
        or Application.objects.open().filter(email__iexact=email).exists()
    )


def _check_declaration(application, licences, dea_registrations):
    """What an applicant declares, checked before anything is kept: one field error per problem."""
    today = timezone.localdate()
    errors = {}
    if not npi_is_valid(application.npi or ""):
        errors["npi"] = "Enter the 10-digit NPI as issued (its last digit is a check digit)."
    if not licences:
        errors["licences"] = "Give at least one state licence."
    seen = set()
    for credential in [*licences, *dea_registrations]:
        key = (type(credential), credential.state, credential.number)
        if credential.expires_on < today:
            errors.setdefault("licences", f"The credential {credential.value} has expired: give the current one.")
        if key in seen:
            errors.setdefault("licences", f"{credential.value} is given twice.")
        seen.add(key)
    if application.is_prescriber and not dea_registrations:
        errors["dea_registrations"] = "A prescriber gives a DEA registration for each state they prescribe in."
    if not application.is_prescriber and dea_registrations:
        errors["dea_registrations"] = "Only a prescriber gives DEA registrations."
    if not (application.malpractice_carrier and application.malpractice_policy_number):
        errors["malpractice_carrier"] = "Give the carrier and policy number of your malpractice cover."
    if application.malpractice_expires_on is None or application.malpractice_expires_on < today:
        errors["malpractice_expires_on"] = "Give the date your current malpractice cover runs to."
    if application.declares_training and application.training_completed_on is None:
        errors["training_completed_on"] = "Give the date you completed the training, or leave the training empty."
    elif application.training_completed_on and application.training_completed_on > today:
        errors["training_completed_on"] = "Give training already completed."
    try:
        application.full_clean(exclude=["medical_group", "link_hash"], validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, messages[0])
    if errors:
        raise ValidationError(errors)


def _build(application, fields, licences, dea_registrations):
    for name in Application.APPLICANT_FIELDS:
        if name in fields:
            setattr(application, name, fields[name] if fields[name] is not None else "")
    for name in ("malpractice_expires_on", "training_completed_on"):
        setattr(application, name, fields.get(name) or None)
    licences = [ApplicationLicence(application=application, **item) for item in licences]
    dea = [ApplicationDEARegistration(application=application, **item) for item in dea_registrations]
    _check_declaration(application, licences, dea)
    return licences, dea


def _keep(application, licences, dea_registrations):
    application.licences.all().delete()
    application.dea_registrations.all().delete()
    ApplicationLicence.objects.bulk_create(licences)
    ApplicationDEARegistration.objects.bulk_create(dea_registrations)


def application_apply(*, email: str, medical_group, role: str, fields: dict, licences, dea_registrations) -> None:
    """The public "join the network" form: an application, never an account. Whether the address is known
    (an account, an open application) changes nothing in the answer: the applicant is e-mailed either way, and
    only a new address makes an application."""
    email = email.strip().lower()
    application = Application(email=email, medical_group=medical_group, role=role, submitted_at=timezone.now())
    if medical_group is None or medical_group.kind != Organization.Kind.MEDICAL_GROUP:
        raise ValidationError({"medical_group": "Choose the medical group you apply to."})
    licences, dea_registrations = _build(application, fields, licences, dea_registrations)
    with transaction.atomic():
        known = _email_is_taken(email) or not _kept(application, licences, dea_registrations)
        context = {"first_name": application.first_name, "known": known, "medical_group": medical_group}
        _mail_on_commit(email, "Your application to the KAPCare network", "received", context)


def _kept(application, licences, dea_registrations):
    """Save a new application; False when the same address applied at the same moment (the constraint)."""
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        return False
    _keep(application, licences, dea_registrations)
    audit_record(AnonymousUser(), AuditEvent.Action.CREATE, application)
    return True


def _mail_on_commit(email, subject, template, context):
    message = render_to_string(f"network/joining/email/{template}.txt", context)
    transaction.on_commit(partial(send_mail, subject, message, None, [email]))


def _send_link(application):
    """A new link for the applicant (invitation or corrections); earlier ones stop working."""
    token = secrets.token_urlsafe(32)
    application.link_hash = Application.digest(token)
    application.link_expires_at = timezone.now() + timedelta(days=Application.LINK_VALID_DAYS)
    context = {
        "first_name": application.first_name,
        "medical_group": application.medical_group,
        "corrections": application.corrections if application.status == Application.Status.CORRECTIONS else "",
        "link": settings.KAPCARE_BASE_URL + reverse("network:network-apply-link", args=[token]),
        "days": Application.LINK_VALID_DAYS,
    }
    _mail_on_commit(application.email, "Your application to the KAPCare network", "link", context)


def application_invite(*, actor, email: str, first_name: str, last_name: str, role: str) -> Application:
    """A coordinator invites a clinician to apply to their medical group: the clinician gets a link to the form."""
    access.require(actor, Permission.REVIEW_APPLICATION, object_type="network.application")
    email = (email or "").strip().lower()
    application = Application(
        email=email,
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        role=role,
        medical_group_id=actor.organization_id,
        invited_by=actor,
        status=Application.Status.INVITED,
    )
    try:
        application.full_clean(exclude=["medical_group"], validate_constraints=False)
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
    with transaction.atomic():
        if _email_is_taken(email):
            raise ValidationError({"email": "This address has a KAPCare account or an application in progress."})
        _send_link(application)
        application.save()
        audit_record(actor, AuditEvent.Action.CREATE, application)
    return application


def application_for_link(token: str) -> Application:
    if not token or len(token) > 100:
        raise LinkUnusable()
    application = (
        Application.objects.filter(
            link_hash=Application.digest(token),
            status__in=[Application.Status.INVITED, Application.Status.CORRECTIONS],
            link_expires_at__gt=timezone.now(),
        )
        .select_related("medical_group")
        .first()
    )
    if application is None:
        raise LinkUnusable()
    return application


def application_complete(*, token: str, fields: dict, licences, dea_registrations) -> Application:
    """The applicant fills in (invited) or corrects (asked to) their application from their link. Their
    credentials are replaced by what they send now; checks made against the old values no longer count."""
    with transaction.atomic():
        application = application_for_link(token)
        application = Application.objects.select_for_update().get(pk=application.pk)
        licences, dea_registrations = _build(application, fields, licences, dea_registrations)
        application.status = Application.Status.SUBMITTED
        application.submitted_at = timezone.now()
        application.link_hash, application.link_expires_at = "", None
        application.save()
        _keep(application, licences, dea_registrations)
        audit_record(AnonymousUser(), AuditEvent.Action.UPDATE, application)
    return application


def _locked(application, *statuses):
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status not in statuses:
        raise RuleRefused(
            f"This application is “{application.get_status_display()}”; that step is not open now.",
            code="application_status",
        )
    return application


def credential_check(*, actor, application: Application, item: str, outcome: str, source: str) -> CredentialCheck:
    """A coordinator records the check of one credential: verified or not matching, against what."""
    access.require(actor, Permission.REVIEW_APPLICATION, application)
    source = (source or "").strip()
    if not source:
        raise ValidationError({"source": "Say what you checked it against: the registry looked up, the document."})
    if len(source) > 500:
        raise ValidationError({"source": "Keep it under 500 characters."})
    if outcome not in CredentialCheck.Outcome.values:
        raise ValidationError({"outcome": "Choose verified or does not match."})
    with transaction.atomic():
        application = _locked(application, Application.Status.SUBMITTED)
        values = {key: value for key, _, value in application.items()}
        if item not in values:
            raise ValidationError({"item": "This application has no such credential (it may have been corrected)."})
        check = CredentialCheck.objects.create(
            application=application, item=item, value=values[item], outcome=outcome, source=source, checked_by=actor
        )
        audit_record(actor, AuditEvent.Action.CREATE, check)
    return check


def application_request_corrections(*, actor, application: Application, corrections: str) -> Application:
    """The coordinator says what to correct; the applicant gets a link to their application."""
    access.require(actor, Permission.REVIEW_APPLICATION, application)
    corrections = (corrections or "").strip()
    if not corrections or len(corrections) > 2000:
        raise ValidationError({"corrections": "Say what the applicant should correct (up to 2,000 characters)."})
    with transaction.atomic():
        application = _locked(application, Application.Status.SUBMITTED)
        application.status = Application.Status.CORRECTIONS
        application.corrections = corrections
        _send_link(application)
        application.save()
        audit_record(actor, AuditEvent.Action.UPDATE, application, fields=["status", "corrections"])
    return application


def application_decline(*, actor, application: Application, note: str = "") -> Application:
    access.require(actor, Permission.REVIEW_APPLICATION, application)
    note = (note or "").strip()[:500]
    with transaction.atomic():
        application = _locked(
            application, Application.Status.INVITED, Application.Status.SUBMITTED, Application.Status.CORRECTIONS
        )
        _decide(actor, application, Application.Status.DECLINED, note)
        _mail_on_commit(
            application.email,
            "Your application to the KAPCare network",
            "decided",
            {"first_name": application.first_name, "note": note},
        )
    return application


def _decide(actor, application, status, note):
    application.status, application.decision_note = status, note
    application.decided_by, application.decided_at = actor, timezone.now()
    application.link_hash, application.link_expires_at = "", None
    application.save()
    audit_record(actor, AuditEvent.Action.UPDATE, application, fields=["status"])


def application_approve(*, actor, application: Application, practice=None, note: str = "") -> Application:
    """Every credential verified, the coordinator approves: the account opens (the clinician sets a password
    from an e-mailed link and enrols a second factor at first sign-in) with the network's approval and the
    verified credentials in kapcare.accounts. KAP training counts only when verified; else the clinician
    completes the network's training before referring or signing."""
    access.require(actor, Permission.REVIEW_APPLICATION, application)
    with transaction.atomic():
        application = _locked(application, Application.Status.SUBMITTED)
        missing = selectors.unverified_items(application)
        if missing:
            raise RuleRefused(
                f"Rule “every credential verified”: not verified yet: {'; '.join(missing)}.",
                code="application_unverified",
            )
        organization = _organization_for(application, practice)
        checks = {item: check for item, _, _, check in selectors.verification_of(application)}
        application.account = account_services.clinician_account_open(
            actor=actor,
            email=application.email,
            first_name=application.first_name,
            last_name=application.last_name,
            role=application.role,
            organization=organization,
            npi=application.npi,
            licences=[
                {"kind": lic.kind, **_fact(lic, checks[f"licence:{lic.pk}"])} for lic in application.licences.all()
            ],
            dea_registrations=[_fact(dea, checks[f"dea:{dea.pk}"]) for dea in application.dea_registrations.all()],
            training=_training(application),
        )
        application.practice = practice
        _decide(actor, application, Application.Status.APPROVED, (note or "").strip()[:500])
    return application


def _organization_for(application, practice):
    if application.is_prescriber:
        return application.medical_group
    if practice is None or practice.medical_group_id != application.medical_group_id:
        raise ValidationError({"practice": f"Choose the therapy practice, referring to {application.medical_group}."})
    return practice


def _fact(credential, check):
    return {
        "state": credential.state,
        "number": credential.number,
        "expires_on": credential.expires_on,
        "verified_at": check.checked_at,
        "verified_by": check.checked_by,
        "verification_note": check.source[:300],
    }


def _training(application):
    if not application.declares_training:
        return None
    return {
        "completed_on": application.training_completed_on,
        "provider": application.training_provider,
        "title": application.training_title,
        "certificate_number": application.training_certificate_number,
    }

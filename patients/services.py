"""Writes to patients and their care teams. Keyword-only, actor first, atomic, audited."""

import hashlib
import secrets
import unicodedata
from datetime import date, timedelta
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kapcare import access, caseload_cache, request_context
from kapcare.access import Permission
from kapcare.accounts import credentials
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.celery import enqueue_on_commit
from kapcare.rules import RuleRefused
from kapcare.services import service
from kapcare.versions import check_version

from . import selectors
from .access import require_safety_alert, safety_alert_role
from .due_work import keeps_due_work
from .models import (
    AlertRole,
    AssignmentNeed,
    CareTeamMember,
    ConsentDocument,
    ConsentSignature,
    EducationModule,
    EducationProgress,
    IdentityChange,
    Invitation,
    Patient,
    Referral,
    ReferralReconciliation,
    SafetyAlert,
    SafetyAlertAcknowledgement,
    SafetyAlertRecipient,
    Stage,
)
from .time_zones import STATE_TIME_ZONES

EDITABLE_FIELDS = ("first_name", "last_name", "date_of_birth", "email", "phone", "state", "time_zone")


def _check_email_free(email, *, except_patient=None):
    patients = Patient.objects.filter(email__iexact=email)
    if except_patient is not None:
        patients = patients.exclude(pk=except_patient.pk)
    if patients.exists():
        raise ValidationError({"email": "A patient with this e-mail address is already registered with KAPCare."})
    users = get_user_model().objects.filter(email__iexact=email)
    if except_patient is not None and except_patient.user_id:
        users = users.exclude(pk=except_patient.user_id)
    if users.exists():
        raise ValidationError({"email": "This e-mail address belongs to another KAPCare account."})


# What a referral form or API call names each detail -> the Referral field that keeps it.
REFERRAL_INPUT = {
    "referral_reasons": "reasons",
    "reason_for_referral": "reason_details",
    "current_diagnoses": "current_diagnoses",
    "current_treatment": "current_treatment",
    "current_medications": "current_medications",
    "clinical_summary": "clinical_summary",
}


@service(Permission.REFER_PATIENT, object_type="patients.patient")
@keeps_due_work
def patient_refer(
    *,
    actor,
    first_name: str,
    last_name: str,
    email: str,
    date_of_birth: date,
    state: str,
    phone: str = "",
    time_zone: str = "",
    referral: dict | None = None,
    invite: bool = True,
) -> Patient:
    """A therapist refers their client. The patient record, the referral details and the therapist's
    place on the care team are created together; a prescriber licensed in the patient's state is
    assigned when the medical group has one; the patient is e-mailed an invitation to the portal."""
    fields = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email.lower(),
        "date_of_birth": date_of_birth,
        "state": state,
        "phone": phone,
        "time_zone": time_zone or STATE_TIME_ZONES.get(state, "America/New_York"),
    }
    practice = actor.organization
    if practice is None or practice.medical_group_id is None:
        raise ValidationError("Your practice is not linked to a medical group yet. Ask a KAPCare administrator.")
    patient = Patient(**fields, medical_group_id=practice.medical_group_id, referred_by=actor)
    patient.full_clean(validate_unique=False, validate_constraints=False)  # a known address is no input error
    credentials.require_to_refer(actor, patient.state)
    if _email_is_known(fields["email"]):
        return _refer_known_email(actor=actor, patient=patient, referral=referral)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:  # the same referral sent twice at once: the second one is reconciled like any other
        return _refer_known_email(actor=actor, patient=patient, referral=referral)
    details = {REFERRAL_INPUT[field]: value for field, value in (referral or {}).items() if field in REFERRAL_INPUT}
    Referral.objects.create(patient=patient, **details)
    CareTeamMember.objects.create(patient=patient, clinician=actor, role=CareTeamMember.Role.THERAPIST)
    caseload_cache.changed()
    audit_record(actor, AuditEvent.Action.CREATE, patient)
    prescriber = selectors.prescriber_for_new_patient(patient)
    if prescriber is not None:
        _put_prescriber_on_team(actor=actor, patient=patient, prescriber=prescriber)
    else:
        _queue_assignment(actor=actor, patient=patient, reason=AssignmentNeed.Reason.NO_PRESCRIBER)
    patient.prescriber_notice = _prescriber_notice(patient, prescriber)
    if invite:
        invitation_send(actor=actor, patient=patient)
    return patient


def _email_is_known(email):
    """Whether KAPCare already has this address, as a patient's or as anyone's sign-in."""
    return (
        Patient.objects.filter(email__iexact=email).exists()
        or get_user_model().objects.filter(email__iexact=email).exists()
    )


def _refer_known_email(*, actor, patient, referral):
    """A referral of an address KAPCare already has goes to the coordinators' reconciliation queue instead of
    making a second record. The therapist is answered exactly as for a new referral (the unsaved `patient`,
    whose id is the queue entry's), so the answer never tells whether the address is a patient's."""
    existing = Patient.objects.filter(email__iexact=patient.email).first()
    entry = ReferralReconciliation.objects.create(
        medical_group_id=existing.medical_group_id if existing else patient.medical_group_id,
        existing_patient=existing,
        referred_by=actor,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth,
        email=patient.email,
        phone=patient.phone,
        state=patient.state,
        details={REFERRAL_INPUT[f]: v for f, v in (referral or {}).items() if f in REFERRAL_INPUT},
    )
    audit_record(actor, AuditEvent.Action.CREATE, entry)
    patient.pk = entry.pk
    patient.referral = Referral(patient=patient, **entry.details)
    patient.prescriber_notice = _prescriber_notice(patient, selectors.prescriber_for_new_patient(patient))
    return patient


def _prescriber_notice(patient, prescriber):
    """What the referring therapist is told when no prescriber could be assigned (None when one was). It depends
    only on the medical group and the state, so a referral of a known address is answered the same way."""
    if prescriber is not None:
        return None
    return (
        f"No approved prescriber of {patient.medical_group} holds a licence in {patient.get_state_display()} yet. "
        "The referral is accepted and waits in the coordinator's assignment queue; a prescriber will be assigned."
    )


def _queue_assignment(*, actor, patient, reason, role=CareTeamMember.Role.PRESCRIBER, clinician=None, detail=""):
    """Put the patient on the coordinators' assignment queue for `role`, once (an open row stays as it is)."""
    if AssignmentNeed.objects.open().filter(patient=patient, role=role).exists():
        return None
    need = AssignmentNeed.objects.create(
        patient=patient, role=role, reason=reason, clinician=clinician, detail=detail[:500]
    )
    audit_record(actor, AuditEvent.Action.CREATE, need)
    return need


def assignment_needs_flag_lapsed(*, today: date | None = None) -> int:
    """The daily sweep: every patient whose therapist or prescriber can no longer practise for them (a licence or
    DEA registration for the patient's state expired, approval or training missing) goes on the coordinators'
    assignment queue for handover. The clinician stays on the team meanwhile (the gates refuse new work); nothing
    is dropped. Returns how many rows were added."""
    today = today or timezone.localdate()
    members = CareTeamMember.objects.active().select_related("clinician", "patient")
    gaps = {}
    added = 0
    for member in members.filter(clinician__role__in=[r.value for r in CareTeamMember.Role]).iterator():
        key = (member.clinician_id, member.patient.state)
        if key not in gaps:
            gaps[key] = credentials.missing_to_treat(member.clinician, member.patient.state, today)
        if gaps[key]:
            with transaction.atomic():
                need = _queue_assignment(
                    actor=None,
                    patient=member.patient,
                    reason=AssignmentNeed.Reason.HANDOVER,
                    role=member.role,
                    clinician=member.clinician,
                    detail="; ".join(gaps[key]),
                )
            added += need is not None
    return added


@service(Permission.RECONCILE_REFERRAL, on="entry")
def reconciliation_link(*, actor, entry: ReferralReconciliation, note: str = "") -> ReferralReconciliation:
    """The coordinator found that the referral is about the patient already on record: the referring therapist
    joins that patient's care team (the referral's details stay on the queue entry, for the record)."""
    return _reconcile(actor=actor, entry=entry, status=ReferralReconciliation.Status.LINKED, note=note)


@service(Permission.RECONCILE_REFERRAL, on="entry")
def reconciliation_decline(*, actor, entry: ReferralReconciliation, note: str = "") -> ReferralReconciliation:
    """The coordinator found that the referral is not about the person on record (or the address is staff's)."""
    return _reconcile(actor=actor, entry=entry, status=ReferralReconciliation.Status.DECLINED, note=note)


def _reconcile(*, actor, entry, status, note):
    """Resolve the entry, inside the transaction of reconciliation_link or reconciliation_decline."""
    entry = ReferralReconciliation.objects.select_for_update().get(pk=entry.pk)
    if entry.status != ReferralReconciliation.Status.PENDING:
        raise RuleRefused(
            f"This referral was already resolved ({entry.get_status_display().lower()}).",
            code="reconciliation_already_resolved",
        )
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": "Keep the note under 500 characters."})
    if status == ReferralReconciliation.Status.LINKED:
        patient = entry.existing_patient
        if patient is None:
            raise RuleRefused(
                "This address belongs to a staff account, not to a patient: there is no record to link. Decline it "
                "and ask the therapist for the patient's own address.",
                code="reconciliation_no_patient",
            )
        _check_referrer_may_join(patient, entry.referred_by)
        member, created = CareTeamMember.objects.active().get_or_create(
            patient=patient, clinician=entry.referred_by, defaults={"role": CareTeamMember.Role.THERAPIST}
        )
        if created:
            audit_record(actor, AuditEvent.Action.CREATE, member)
            caseload_cache.changed()
    entry.status = status
    entry.resolved_by = actor
    entry.resolved_at = timezone.now()
    entry.resolution_note = note
    entry.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
    audit_record(actor, AuditEvent.Action.UPDATE, entry, fields=["status"])
    return entry


def _check_referrer_may_join(patient, therapist):
    """Linking puts the referring therapist on the team, so it is the referral's other door: only a therapist of a
    practice in the patient's medical group, whose licence covers the state the patient lives in (or who holds a
    coordinator's documented exception for it), or a probe from anywhere would open the record."""
    try:
        _check_therapist_of_group(patient, therapist)
    except ValidationError as error:
        raise RuleRefused(
            f"{' '.join(error.messages)} Decline the referral: a link would put them on the care team.",
            code="reconciliation_therapist_cannot_treat",
        ) from None
    credentials.require_to_refer(therapist, patient.state)


def _check_credentials_to_treat(patient, clinician, field):
    """A clinician joins a care team only approved, trained and with current verified credentials for the
    patient's state (kapcare.accounts.credentials.missing_to_treat)."""
    gaps = credentials.missing_to_treat(clinician, patient.state)
    if gaps:
        state = patient.get_state_display()
        what = "is not licensed in" if credentials.licence_gap(clinician, patient.state) else "cannot practise in"
        raise ValidationError({field: f"{clinician} {what} {state} ({'; '.join(gaps)})."})


def _check_prescriber_may_treat(patient, prescriber):
    if prescriber.role != prescriber.Role.PRESCRIBER or prescriber.organization_id != patient.medical_group_id:
        raise ValidationError({"prescriber": f"{prescriber} is not a prescriber of {patient.medical_group}."})
    _check_credentials_to_treat(patient, prescriber, "prescriber")


def _put_on_team(*, actor, patient, clinician, role):
    """`clinician` takes `role` on the patient's care team (the previous holder leaves it) and inherits the safety
    alerts still open for that role."""
    now = timezone.now()
    CareTeamMember.objects.active().filter(patient=patient, role=role).exclude(clinician=clinician).update(
        active_to=now
    )
    member, created = CareTeamMember.objects.active().get_or_create(
        patient=patient, clinician=clinician, defaults={"role": role, "active_from": now}
    )
    caseload_cache.changed()  # the clinician filter's choices of everyone on the team
    if created:
        audit_record(actor, AuditEvent.Action.CREATE, member)
        _hand_over_open_alerts(actor=actor, patient=patient, member=member)
    for need in AssignmentNeed.objects.open().filter(patient=patient, role=role):
        need.resolved_at, need.resolved_by = now, actor
        need.save(update_fields=["resolved_at", "resolved_by"])
        audit_record(actor, AuditEvent.Action.UPDATE, need, fields=["resolved_at"])
    return member


def _put_prescriber_on_team(*, actor, patient, prescriber):
    _check_prescriber_may_treat(patient, prescriber)
    return _put_on_team(actor=actor, patient=patient, clinician=prescriber, role=CareTeamMember.Role.PRESCRIBER)


@keeps_due_work
def prescriber_assign(*, actor, patient: Patient, prescriber) -> CareTeamMember:
    """A coordinator assigns (or changes) the patient's prescriber. The previous one leaves the team."""
    access.require(actor, Permission.ASSIGN_PRESCRIBER, patient)
    with transaction.atomic():
        return _put_prescriber_on_team(actor=actor, patient=patient, prescriber=prescriber)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_therapist_of_group(patient, therapist):
    practice = therapist.organization
    if (
        therapist.role != therapist.Role.THERAPIST
        or not therapist.is_active
        or practice is None
        or practice.medical_group_id != patient.medical_group_id
    ):
        raise ValidationError(
            {"therapist": f"{therapist} is not a therapist of a practice in {patient.medical_group}."}
        )


def _check_therapist_may_treat(patient, therapist):
    _check_therapist_of_group(patient, therapist)
    _check_credentials_to_treat(patient, therapist, "therapist")


@keeps_due_work
def therapist_assign(*, actor, patient: Patient, therapist) -> CareTeamMember:
    """A coordinator matches the patient with a therapist, or a new one: the previous therapist leaves the team,
    and the safety alerts still open for the therapist are handed over to the new one."""
    access.require(actor, Permission.ASSIGN_THERAPIST, patient)
    with transaction.atomic():
        _check_therapist_may_treat(patient, therapist)
        return _put_on_team(actor=actor, patient=patient, clinician=therapist, role=CareTeamMember.Role.THERAPIST)


@service(Permission.INVITE_PATIENT, on="patient")
def invitation_send(*, actor, patient: Patient) -> Invitation:
    """E-mail the patient a single-use link to the portal, valid for 7 days. Earlier links stop working.
    KAPCare itself sends one through `invitation_send.unchecked(actor=None, ...)` when the patient asks for a
    new link from an expired one (sent to the address on file)."""
    if patient.user_id:
        raise ValidationError("This patient already has a portal account.")
    now = timezone.now()
    Invitation.objects.filter(patient=patient, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    invitation = Invitation.objects.create(
        patient=patient, created_by=actor, expires_at=now + timedelta(days=Invitation.VALID_FOR_DAYS)
    )
    audit_record(actor, AuditEvent.Action.CREATE, invitation)
    enqueue_on_commit("patients.tasks.email_invitation", invitation.pk)
    return invitation


def invitation_email(*, invitation_id) -> bool:
    """Send the invitation e-mail, unless the link has meanwhile been used or replaced. The link's token is made
    here, at sending time (256 random bits; only its hash is kept), so it never travels in a task's arguments; a
    retried sending makes a new one and the earlier stops working. Only a first name and the link: no clinical
    detail ever goes into an e-mail."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("patient").filter(pk=invitation_id).first()
        if invitation is None or not invitation.is_usable or invitation.patient.user_id:
            return False
        token = secrets.token_urlsafe(32)
        invitation.token_hash = _token_digest(token)
        invitation.save(update_fields=["token_hash"])
    patient = invitation.patient
    link = f"{settings.KAPCARE_BASE_URL}{reverse('patients:invitation-open', args=[token])}"
    context = {"first_name": patient.first_name, "link": link, "days": Invitation.VALID_FOR_DAYS}
    send_mail(
        subject="Your invitation to KAPCare",
        message=render_to_string("patients/email/invitation.txt", context),
        from_email=None,
        recipient_list=[patient.email],
    )
    return True


class InvitationUnusable(Exception):
    def __init__(self, reason, invitation=None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


class DateOfBirthMismatch(Exception):
    """The date of birth given with an invitation is not the one on the record. `remaining` tries are left."""

    def __init__(self, remaining):
        super().__init__("The date of birth does not match.")
        self.remaining = remaining


def invitation_for_token(token: str) -> Invitation:
    """The invitation this link carries, or InvitationUnusable saying why (unknown, used, replaced, expired)."""
    if not token or len(token) > 100:
        raise InvitationUnusable("unknown")
    invitation = Invitation.objects.select_related("patient").filter(token_hash=_token_digest(token)).first()
    if invitation is None:
        raise InvitationUnusable("unknown")
    if invitation.used_at is not None or invitation.patient.user_id:
        raise InvitationUnusable("used", invitation)
    if invitation.revoked_at is not None:
        raise InvitationUnusable(
            "locked" if invitation.failed_confirmations >= Invitation.MAX_FAILED_CONFIRMATIONS else "replaced",
            invitation,
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationUnusable("expired", invitation)
    return invitation


def invitation_accept(*, token: str, password: str, date_of_birth: date):
    """The patient follows the link, confirms their date of birth and sets a password: their portal account
    exists and the course moves on. A wrong date of birth is refused (DateOfBirthMismatch) and audited; after
    Invitation.MAX_FAILED_CONFIRMATIONS of them the link is switched off and the care team must send a new one."""
    invitation = invitation_for_token(token)
    if invitation.patient.date_of_birth != date_of_birth:
        _count_wrong_date_of_birth(invitation)  # committed on its own, whatever happens next
    return _accept(invitation=invitation, password=password)


def _count_wrong_date_of_birth(invitation):
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation.failed_confirmations += 1
        update = ["failed_confirmations"]
        remaining = max(Invitation.MAX_FAILED_CONFIRMATIONS - invitation.failed_confirmations, 0)
        if remaining == 0 and invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            update.append("revoked_at")
        invitation.save(update_fields=update)
        audit_record(AnonymousUser(), AuditEvent.Action.UPDATE, invitation, denied=True, fields=["date_of_birth"])
    raise DateOfBirthMismatch(remaining)


@transaction.atomic
def _accept(*, invitation, password):
    invitation = Invitation.objects.select_for_update().select_related("patient").get(pk=invitation.pk)
    if invitation.used_at is not None:
        raise InvitationUnusable("used", invitation)
    patient = invitation.patient
    User = get_user_model()
    if User.objects.filter(email__iexact=patient.email).exists():
        raise InvitationUnusable("used", invitation)
    user = User(email=patient.email, first_name=patient.first_name, last_name=patient.last_name, role=User.Role.PATIENT)
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    audit_record(user, AuditEvent.Action.UPDATE, patient, fields=["user"])
    patient_refresh_stage(patient=patient)
    return user


@transaction.atomic
def invitation_request_new(*, invitation: Invitation) -> Invitation | None:
    """From an expired or replaced link: send a fresh one to the address on file, at most every 10 minutes.
    None when the latest link was switched off after wrong dates of birth: only the care team sends another, or
    an older link would buy five more guesses every 10 minutes."""
    patient = invitation.patient
    if patient.user_id:
        return None
    latest = patient.invitations.order_by("-created_at").first()
    if latest and latest.failed_confirmations >= Invitation.MAX_FAILED_CONFIRMATIONS:
        return None
    if latest and latest.created_at > timezone.now() - timedelta(minutes=10):
        return latest
    return invitation_send.unchecked(actor=None, patient=patient)


PROFILE_FIELDS = (
    "phone",
    "time_zone",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "chaperone_name",
    "chaperone_phone",
    "chaperone_email",
)


@service(Permission.EDIT_OWN_PROFILE, on="patient")
def patient_update_profile(*, actor, patient: Patient, **changes) -> Patient:
    """The patient keeps their own contact details, emergency contact and chaperone current."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    for field, value in changes.items():
        setattr(patient, field, value)
    patient.full_clean()
    patient.save(update_fields=[*changes, "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, patient)
    return patient


def _refuse_known_email(*, actor, patient, changes, **_arguments):
    """An address KAPCare already has cannot become this patient's. The refusal does not say whose it is (a
    patient's or a staff account's) and is audited, so probing addresses this way leaves a trace."""
    if "email" not in changes:
        return
    email = (changes["email"] or "").lower()
    if patient.user_id or email == patient.email or not _email_is_known(email):
        return
    audit_record(actor, AuditEvent.Action.UPDATE, patient, denied=True, fields=["email"])
    raise ValidationError({"email": "This e-mail address cannot be used for this patient. Check it with the patient."})


@service(Permission.CHANGE_PATIENT, on="patient", before=_refuse_known_email)  # the refusal is kept: outside
def patient_update(*, actor, patient: Patient, expected_version: str | None = None, **changes) -> Patient:
    """Change a patient's details. Only the fields in EDITABLE_FIELDS can change. With `expected_version`
    (from If-Match) the change is refused when someone else changed the record since it was read."""
    check_version(Patient.objects.select_for_update().only("updated_at").get(pk=patient.pk), expected_version)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    email_changed = "email" in changes and changes["email"].lower() != patient.email
    if email_changed:
        _check_email_change(patient, changes["email"].lower())
        changes["email"] = changes["email"].lower()
    if "state" in changes and changes["state"] != patient.state:
        _check_team_may_treat_in(patient, changes["state"])
    before = {field: getattr(patient, field) for field in changes}
    for field, value in changes.items():
        setattr(patient, field, value)
    patient.full_clean()
    patient.save(update_fields=[*changes, "updated_at"])
    changed = [field for field in changes if before[field] != getattr(patient, field)]
    _log_identity_changes(actor, patient, before, changed)
    audit_record(actor, AuditEvent.Action.UPDATE, patient, fields=changed)
    if email_changed:
        _reissue_invitation_after_email_change(actor=actor, patient=patient)
    return patient


def _identity_value(value):
    return "" if value is None else str(value)


def _log_identity_changes(actor, patient, before, changed):
    """The values before and after, for the care team (IdentityChange); the audit row names the fields only."""
    name = (actor.get_full_name() or actor.email) if actor is not None and actor.is_authenticated else "KAPCare"
    IdentityChange.objects.bulk_create(
        IdentityChange(
            patient=patient,
            field=field,
            old_value=_identity_value(before[field])[:254],
            new_value=_identity_value(getattr(patient, field))[:254],
            changed_by=actor if actor is not None and actor.is_authenticated else None,
            changed_by_name=name[:300],
        )
        for field in changed
        if field in IdentityChange.FIELDS
    )


def _reissue_invitation_after_email_change(*, actor, patient):
    """Links already sent went to the old address: they stop working, a new one goes to the new address (when
    one had been sent), and the old address is told that it was replaced (after commit, by the change's id)."""
    had_invitation = patient.invitations.exists()
    patient.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if had_invitation:
        invitation_send.unchecked(actor=actor, patient=patient)
    change = IdentityChange.objects.filter(patient=patient, field="email").order_by("-changed_at", "-id").first()
    enqueue_on_commit("patients.tasks.email_previous_address", change.pk)


def email_change_notify(*, change_id) -> bool:
    """Tell the previous address that KAPCare no longer writes to it. No name, no new address, no clinical
    detail: whoever reads that mailbox learns only that an address was replaced and whom to ask."""
    change = IdentityChange.objects.filter(pk=change_id, field="email").first()
    if change is None or not change.old_value:
        return False
    send_mail(
        subject="Your e-mail address at KAPCare was changed",
        message=render_to_string(
            "patients/email/email_changed.txt", {"changed_at": change.changed_at, "base_url": settings.KAPCARE_BASE_URL}
        ),
        from_email=None,
        recipient_list=[change.old_value],
    )
    return True


def _check_email_change(patient, email):
    """The portal account is the patient's own: once they have joined, only they change its address
    (in their account settings), so no one else can redirect their sign-in to another mailbox."""
    if patient.user_id:
        raise ValidationError(
            {"email": "The patient has joined the portal; they change their e-mail address in their account."}
        )
    _check_email_free(email, except_patient=patient)


def _check_team_may_treat_in(patient, state):
    """Moving the patient is no way around the licence rules: the prescriber must be licensed in the new state,
    the therapist too (or hold a coordinator's documented exception for it, as for a referral)."""
    for member in CareTeamMember.objects.active().filter(patient=patient).select_related("clinician"):
        if credentials.current_licence(member.clinician, state) is not None:
            continue
        if member.role == CareTeamMember.Role.PRESCRIBER:
            raise ValidationError(
                {"state": f"{member.clinician} is not licensed there. A coordinator assigns another prescriber first."}
            )
        if (
            member.role == CareTeamMember.Role.THERAPIST
            and credentials.referral_exception(member.clinician, state) is None
        ):
            raise ValidationError(
                {
                    "state": f"The therapist {member.clinician} is not licensed there. A coordinator assigns another "
                    "therapist or records a documented exception for that state first."
                }
            )


@transaction.atomic
def patient_mark_intake_submitted(*, actor, patient: Patient) -> Patient:
    """The intake service (assessments) reports a submitted intake; the stage may move on."""
    patient.intake_submitted_at = timezone.now()
    patient.save(update_fields=["intake_submitted_at", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, patient)
    return patient_refresh_stage(patient=patient)


def patient_set_stage(*, actor, patient: Patient, stage: str) -> Patient:
    """Record a stage derived above (treatment.course.services.course_refresh derives the later stages from
    signed evaluations, dose plans and sessions). Only that derivation calls this; nobody types a stage in."""
    if stage not in Stage.values:
        raise ValidationError({"stage": f"{stage!r} is not a stage of the course of care."})
    if stage != patient.stage:
        patient.stage = stage
        patient.save(update_fields=["stage", "updated_at"])
        caseload_cache.changed()  # patients by stage
        audit_record(actor, AuditEvent.Action.UPDATE, patient)
    return patient


def patient_refresh_stage(*, patient: Patient) -> Patient:
    """Advance the early stages from what has happened. Later stages come from treatment's signed records.

    referred -> intake: the patient accepted the invitation (has a portal account);
    intake -> evaluation: the intake is submitted and every current required consent is signed.
    """
    stage = patient.stage
    if stage == Stage.REFERRED and patient.user_id:
        stage = Stage.INTAKE
    if stage == Stage.INTAKE and patient.intake_submitted_at and not selectors.outstanding_consents(patient):
        stage = Stage.EVALUATION
    if stage != patient.stage:
        patient.stage = stage
        patient.save(update_fields=["stage", "updated_at"])
        caseload_cache.changed()  # patients by stage
    return patient


# Consent and education ------------------------------------------------------------------------


def _require_own_record(actor, permission, patient):
    """Consents and education are the patient's own acts: nobody else signs or reads for them."""
    access.require(actor, permission, patient)
    if patient.user_id is None or patient.user_id != actor.pk:
        rule = access.RULES[permission]
        audit_record(actor, rule.action, patient, denied=True)
        raise PermissionDenied(rule.reason)


def _normalized_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


# A consent signed this soon after the patient's e-mail address changed is flagged to the therapist: the
# pattern of an account taken over through a redirected invitation. So is every consent signed from a portal
# account opened after such a change (the redirected invitation's account), however long the signer waited.
CONSENT_AFTER_EMAIL_CHANGE = timedelta(minutes=60)


def _email_change_to_flag(patient, signer, now):
    """The e-mail change a signature made `now` is flagged with: one within the hour, or one made before the
    signer's portal account was opened (the account may have come from an invitation sent to that address)."""
    soon = Q(changed_at__gte=now - CONSENT_AFTER_EMAIL_CHANGE)
    if signer.is_authenticated:
        soon |= Q(changed_at__lte=signer.date_joined)
    changes = IdentityChange.objects.filter(soon, patient=patient, field="email")
    return changes.order_by("-changed_at").values_list("changed_at", flat=True).first()


@service(Permission.SIGN_CONSENT, on="patient", check=_require_own_record)
def consent_sign(
    *, actor, patient: Patient, document: ConsentDocument, typed_name: str, signer_session: str = ""
) -> ConsentSignature:
    """The patient signs the current version of a consent document, with their typed full name. The
    signature keeps the time, the client's IP address, the signer's session (a hash or a token's id, from
    kapcare.request_context.session_reference) and the SHA-256 of the exact text signed."""
    # One signing at a time per patient, so a double submit is refused below rather than failing on the constraint.
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    current = ConsentDocument.objects.current().filter(kind=document.kind).first()
    if current is None or current.pk != document.pk:
        raise ValidationError(
            {"document": "This version of the consent has been replaced. Open your consents and sign the current one."}
        )
    if _normalized_name(typed_name) != _normalized_name(patient.full_name):
        raise ValidationError(
            {"typed_name": "The name you typed does not match your record. Type your first and last name in full."}
        )
    if ConsentSignature.objects.filter(patient=patient, document=document).exists():
        raise ValidationError({"document": f"You have already signed version {document.version} of this document."})
    now = timezone.now()
    email_changed_at = _email_change_to_flag(patient, actor, now)
    signature = ConsentSignature.objects.create(
        patient=patient,
        document=document,
        typed_name=" ".join(typed_name.split()),
        signed_at=now,
        ip=request_context.current().client_ip,
        signer_session=signer_session[:80],
        text_sha256=document.text_sha256,
        email_changed_at=email_changed_at,
    )
    audit_record(actor, AuditEvent.Action.CREATE, signature)
    patient_refresh_stage(patient=patient)
    return signature


@service(Permission.MARK_EDUCATION_READ, on="patient", check=_require_own_record)
def education_mark_read(*, actor, patient: Patient, module: EducationModule) -> EducationProgress:
    """The patient has read a module. Marking it again changes nothing."""
    if not module.active:
        raise ValidationError("This module is no longer offered.")
    progress, created = EducationProgress.objects.get_or_create(patient=patient, module=module)
    if created:
        audit_record(actor, AuditEvent.Action.CREATE, progress)
    return progress


# Safety alerts ------------------------------------------------------------------------------------

# The messaging app's task that notifies the recipients and escalates; enqueued by name so this app never
# imports messaging. Until messaging registers it, raising an alert still works and the dashboards show it.
SAFETY_ALERT_TASK = "messaging.tasks.notify_safety_alert"


def _enqueue_safety_alert_notification(alert_id):
    """After commit: hand the alert's id (never its content) to messaging, when messaging has the task."""
    from kapcare.celery import app

    task = app.tasks.get(SAFETY_ALERT_TASK)
    if task is not None:
        task.delay(str(alert_id))


@keeps_due_work
def safety_alert_raise(
    *, patient: Patient, kind: str, reason: str, source, severity: str = SafetyAlert.Severity.HIGH, actor=None
) -> SafetyAlert:
    """Raise a safety alert about the patient. It waits for an acknowledgement from the patient's therapist and
    prescriber (the roles, whoever holds them when they act) and is sent now to the clinicians on the active
    care team. Called by rules in any app, inside their own transaction: rolled back with it, and messaging is
    woken only after commit. `reason` is a short sentence in the rule's words, never the patient's free text.
    `source` is the record that raised it (a response, a side-effect report, an intake); raising the same kind
    for the same source again returns the existing alert. `actor` is who triggered it, for the audit trail
    (None for a system rule)."""
    if kind not in SafetyAlert.Kind.values:
        raise ValueError(f"Unknown safety alert kind {kind!r}: add it to SafetyAlert.Kind.")
    source_type, source_id = source._meta.label_lower, str(source.pk)
    with transaction.atomic():
        alert, created = SafetyAlert.objects.get_or_create(
            kind=kind,
            source_type=source_type,
            source_id=source_id,
            defaults={"patient": patient, "reason": reason[:300], "severity": severity},
        )
        if not created:
            return alert
        team = CareTeamMember.objects.active().filter(patient=patient).order_by("role", "active_from")
        recipients = {member.clinician_id: member.role for member in team}
        SafetyAlertRecipient.objects.bulk_create(
            SafetyAlertRecipient(alert=alert, clinician_id=clinician_id, role=role, sent_at=alert.raised_at)
            for clinician_id, role in recipients.items()
        )
        audit_record(actor, AuditEvent.Action.CREATE, alert)
        transaction.on_commit(partial(_enqueue_safety_alert_notification, alert.pk))
    return alert


def _hand_over_open_alerts(*, actor, patient, member):
    """A clinician took over a role on the team: every alert still open for that role is now theirs too.
    They are told (a recipient row, then messaging plans the notice and the 1-hour reminder after commit)."""
    alerts = list(SafetyAlert.objects.filter(patient=patient).open_for_role(member.role))
    if not alerts:
        return
    told = set(
        SafetyAlertRecipient.objects.filter(alert__in=alerts, clinician_id=member.clinician_id).values_list(
            "alert_id", flat=True
        )
    )
    now = timezone.now()
    for alert in alerts:
        if alert.pk in told:
            continue
        SafetyAlertRecipient.objects.create(
            alert=alert,
            clinician_id=member.clinician_id,
            role=member.role,
            via=SafetyAlertRecipient.Via.HANDOVER,
            sent_at=now,
        )
        audit_record(actor, AuditEvent.Action.UPDATE, alert)
        transaction.on_commit(partial(_enqueue_safety_alert_notification, alert.pk))


@transaction.atomic
def safety_alert_escalated(*, alert_id, user_id) -> SafetyAlertRecipient | None:
    """Messaging escalates an unacknowledged alert to a coordinator (the 4-hour reminder, at send time): the
    coordinator may now open it and acknowledge it. Idempotent; None when the alert is gone."""
    alert = SafetyAlert.objects.filter(pk=alert_id).first()
    if alert is None:
        return None
    recipient, created = SafetyAlertRecipient.objects.get_or_create(
        alert=alert,
        clinician_id=user_id,
        defaults={"role": AlertRole.COORDINATOR, "via": SafetyAlertRecipient.Via.ESCALATION},
    )
    if created:
        audit_record(None, AuditEvent.Action.UPDATE, alert)
    return recipient


@service(Permission.ACKNOWLEDGE_SAFETY_ALERT, on="alert", check=require_safety_alert)
@keeps_due_work
def safety_alert_acknowledge(*, actor, alert: SafetyAlert, note: str) -> SafetyAlertAcknowledgement:
    """The patient's therapist or prescriber (whoever holds the role now) records that they saw the alert and
    what they did, in their role; a coordinator it was escalated to records their action as the coordinator.
    Once per person, and once per clinician role. `alert` must come from kapcare.access (an outsider got 404)."""
    role = safety_alert_role(actor, alert)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what you did about this alert (for example: called the patient)."})
    if len(note) > 2000:
        raise ValidationError({"note": "Keep the note under 2000 characters."})
    # One acknowledgement per role: two therapists of the team acknowledging at once are taken in turn.
    SafetyAlert.objects.select_for_update().filter(pk=alert.pk).values_list("pk", flat=True).first()
    existing = SafetyAlertAcknowledgement.objects.filter(alert=alert, clinician=actor).first()
    if existing is not None:
        raise RuleRefused(
            f"You already acknowledged this alert on {_when(existing.acknowledged_at)}; "
            "an acknowledgement is not changed. Add anything new to the care-team thread.",
            code="alert_already_acknowledged",
        )
    if role != AlertRole.COORDINATOR:
        earlier = SafetyAlertAcknowledgement.objects.filter(alert=alert, role=role).select_related("clinician").first()
        if earlier is not None:
            raise RuleRefused(
                f"This alert was acknowledged as the {AlertRole(role).label.lower()} by {earlier.clinician} on "
                f"{_when(earlier.acknowledged_at)}. Add anything new to the care-team thread.",
                code="alert_already_acknowledged",
            )
    acknowledgement = SafetyAlertAcknowledgement.objects.create(alert=alert, clinician=actor, role=role, note=note)
    audit_record(actor, AuditEvent.Action.UPDATE, alert)
    return acknowledgement


def _when(value):
    at = timezone.localtime(value)
    return f"{at:%b} {at.day}, {at.year} at {at:%H:%M}"

"""The scopes of the access policy over patients' records: which patients, safety alerts and referral
reconciliations a user reaches. kapcare.access holds the rules (which role may do what); these querysets
live next to the models they filter, since kapcare imports no app above it."""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef

from kapcare.access import RULES, Role, require
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record

from .models import AlertRole, CareTeamMember, DueItem, Patient, ReferralReconciliation, SafetyAlertRecipient


def visible_patients(user):
    """Every patient the user may see, as a queryset to filter further."""
    patients = Patient.objects.all()
    if not user.is_authenticated:
        return patients.none()
    if user.role in User.CLINICIAN_ROLES:
        membership = CareTeamMember.objects.active().filter(patient=OuterRef("pk"), clinician=user)
        return patients.filter(Exists(membership))
    if user.role == Role.COORDINATOR and user.organization_id:
        return patients.filter(medical_group_id=user.organization_id)
    if user.role == Role.PATIENT:
        return patients.filter(user=user)
    return patients.none()


def visible_patient_ids(user):
    """The ids of visible_patients(user), as a subquery to filter records by patient. A clinician's come from
    their own care team rows (the care_team_clinician index) rather than a semi-join over every patient."""
    if user.is_authenticated and user.role in User.CLINICIAN_ROLES:
        return CareTeamMember.objects.active().filter(clinician=user).values("patient_id")
    return visible_patients(user).values("pk")


def visible_reconciliations(user):
    """Referrals to reconcile: a coordinator sees their medical group's queue; nobody else sees one (the
    referring therapist was answered as for any referral and must not learn the address was known)."""
    if user.is_authenticated and user.role == Role.COORDINATOR and user.organization_id:
        return ReferralReconciliation.objects.filter(medical_group_id=user.organization_id)
    return ReferralReconciliation.objects.none()


# Safety alerts: a role on the care team now, or a coordinator the alert was escalated to ----------------

NOT_ESCALATED_TO_YOU = (
    "A safety alert reaches a coordinator only when it is escalated to them (not acknowledged after 4 hours); "
    "until then it is for the therapist and the prescriber on the care team."
)


def _escalated_to(user):
    return SafetyAlertRecipient.objects.filter(alert=OuterRef("pk"), clinician=user, role=AlertRole.COORDINATOR)


def safety_alert_role(user, alert):
    """The AlertRole in which the user stands towards this alert now, or None: a clinician's role on the
    patient's active care team (whoever holds it now, not who held it when it was raised), or coordinator
    when it was escalated to them. `alert` comes from a visible_* queryset."""
    if not user.is_authenticated:
        return None
    if user.role in User.CLINICIAN_ROLES:
        memberships = CareTeamMember.objects.active().filter(patient_id=alert.patient_id, clinician=user)
        return memberships.values_list("role", flat=True).first()
    if user.role == Role.COORDINATOR:
        escalated = SafetyAlertRecipient.objects.filter(alert=alert, clinician=user, role=AlertRole.COORDINATOR)
        return AlertRole.COORDINATOR if escalated.exists() else None
    return None


def require_safety_alert(user, permission, alert):
    """require() for one alert: the role may, and the user stands in a role towards it (403, audited)."""
    require(user, permission, alert)
    if safety_alert_role(user, alert) is None:
        audit_record(user, RULES[permission].action, alert, denied=True)
        raise PermissionDenied(NOT_ESCALATED_TO_YOU)


def only_openable_alerts(user, alerts):
    """Narrow a queryset of visible alerts to those the user may open: all of their patients' for a clinician,
    those escalated to them for a coordinator."""
    if user.is_authenticated and user.role == Role.COORDINATOR:
        return alerts.filter(Exists(_escalated_to(user)))
    return alerts


# Who works each kind of stored due work (patients.models.DueItem.role): the team's clinicians, or one of them.
DUE_WORK_ROLES = {
    DueItem.Role.TEAM: frozenset(User.CLINICIAN_ROLES),
    DueItem.Role.THERAPIST: frozenset({Role.THERAPIST}),
    DueItem.Role.PRESCRIBER: frozenset({Role.PRESCRIBER}),
}
DUE_WORK_REFUSED = "This list is the work of another role on the care team."


def visible_due_items(user):
    """The open due work of the user's patients that the user's role does (404-scoped like any record)."""
    roles = [due_role for due_role, roles in DUE_WORK_ROLES.items() if user.is_authenticated and user.role in roles]
    return DueItem.objects.open().filter(patient_id__in=visible_patient_ids(user), role__in=roles)


def visible_questionnaires_due(user):
    """The open questionnaire rows of the user's patients: for a patient, the questionnaires they are asked to
    answer (the one kind of due work that is the patient's own)."""
    return DueItem.objects.open().filter(patient_id__in=visible_patient_ids(user), kind=DueItem.Kind.QUESTIONNAIRE)


def require_due_work(user, due_role):
    """Refuse (403, audited) a list of due work that the user's role does not do."""
    if user.is_authenticated and user.role in DUE_WORK_ROLES[due_role]:
        return
    audit_denied(user, AuditEvent.Action.LIST, object_type="patients.dueitem", object_id="")
    raise PermissionDenied(DUE_WORK_REFUSED)


def visible_patient_count(user):
    """How many patients visible_patients(user) holds. A clinician's from their care-team rows alone (the
    care_team_clinician index), not a pass over every patient."""
    if user.is_authenticated and user.role in User.CLINICIAN_ROLES:
        memberships = CareTeamMember.objects.active().filter(clinician=user)
        return memberships.values("patient_id").distinct().count()
    return visible_patients(user).count()

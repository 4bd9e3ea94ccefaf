"""Reads of patients for views and the API; every one starts from kapcare.access."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from kapcare import access
from kapcare.accounts.models import Licence

from .models import (
    CareTeamMember,
    ConsentDocument,
    ConsentKind,
    ConsentSignature,
    EducationModule,
    EducationProgress,
    IdentityChange,
    ReferralReconciliation,
    SafetyAlert,
    SafetyAlertAcknowledgement,
    SafetyAlertRecipient,
)


def active_team_prefetch():
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.active().select_related("clinician").order_by("role", "active_from"),
        to_attr="active_team",
    )


def patients_for_list(user):
    """The user's patients in name order, with their active care team, in a fixed number of queries."""
    return access.visible_patients(user).for_list().prefetch_related(active_team_prefetch())


def patients_for_api(user):
    """The user's patients as the API shows them: no care team, the referral in the same query."""
    return access.visible_patients(user).for_list().select_related("referral")


def patient_for_chart(user, patient_id, *, action):
    """One visible patient with their care team, or 404 (audited)."""
    patients = patients_for_list(user).select_related("referral", "referred_by", "medical_group")
    return access.get_visible(patients, patient_id, user=user, action=action)


def prescriber_for_new_patient(patient):
    """A prescriber of the patient's medical group, licensed in the patient's state with a current
    licence, with the fewest active patients; None when the group has no such prescriber."""
    User = get_user_model()
    now, today = timezone.now(), timezone.localdate()
    active = Q(care_teams__active_to__isnull=True) | Q(care_teams__active_to__gt=now)
    return (
        User.objects.filter(
            role=User.Role.PRESCRIBER,
            is_active=True,
            organization_id=patient.medical_group_id,
        )
        .filter(Exists(Licence.objects.filter(clinician=OuterRef("pk"), state=patient.state, expires_on__gte=today)))
        .annotate(caseload=Count("care_teams", filter=active))
        .order_by("caseload", "last_name", "id")
        .first()
    )


# Consent and education ------------------------------------------------------------------------


class ConsentState(models.TextChoices):
    SIGNED = "signed", "Signed"
    NEEDS_RESIGN = "needs_resign", "New version to sign"
    NOT_SIGNED = "not_signed", "Not signed"


@dataclass(frozen=True)
class ConsentStatus:
    """Where one patient stands with one kind of consent, against its current version."""

    document: ConsentDocument  # the current version
    state: str  # a ConsentState
    signed_version: int | None = None  # the latest version the patient signed
    signed_at: datetime | None = None
    # Set when that signature came within the hour after the patient's e-mail address was changed.
    email_changed_at: datetime | None = None

    @property
    def kind(self):
        return self.document.kind

    @property
    def label(self):
        return self.document.get_kind_display()

    @property
    def required(self):
        return self.document.required

    @property
    def outstanding(self):
        """A required document the patient still has to sign at its current version."""
        return self.required and self.state != ConsentState.SIGNED

    def get_state_display(self):
        return ConsentState(self.state).label


def _kind_order(document):
    kinds = list(ConsentKind.values)
    return kinds.index(document.kind) if document.kind in kinds else len(kinds)


def current_consent_documents():
    """The current (latest published) version of each kind of consent, in a fixed order. One query."""
    return sorted(ConsentDocument.objects.current(), key=_kind_order)


def outstanding_consents(patient):
    """The current required consent documents the patient has not signed at their current version."""
    signed = ConsentSignature.objects.filter(patient=patient, document=OuterRef("pk"))
    documents = ConsentDocument.objects.current().filter(required=True).exclude(Exists(signed))
    return sorted(documents, key=_kind_order)


def consent_status_for_patients(patient_ids):
    """{patient id: [ConsentStatus per current kind]} for many patients, in two queries whatever their number.
    The caller has already scoped the ids through kapcare.access."""
    patient_ids = list(patient_ids)
    documents = current_consent_documents()
    latest = {}  # (patient id, kind) -> (version, signed_at) of the highest version signed
    if patient_ids:  # asked even without documents, so a page costs the same queries always
        signatures = ConsentSignature.objects.filter(
            patient_id__in=patient_ids, document__kind__in=[d.kind for d in documents]
        ).values_list("patient_id", "document__kind", "document__version", "signed_at", "email_changed_at")
        for patient_id, kind, version, signed_at, email_changed_at in signatures:
            key = (patient_id, kind)
            if key not in latest or version > latest[key][0]:
                latest[key] = (version, signed_at, email_changed_at)
    statuses = {}
    for patient_id in patient_ids:
        rows = []
        for document in documents:
            version, signed_at, email_changed_at = latest.get((patient_id, document.kind), (None, None, None))
            if version is None:
                state = ConsentState.NOT_SIGNED
            elif version >= document.version:
                state = ConsentState.SIGNED
            else:
                state = ConsentState.NEEDS_RESIGN
            rows.append(
                ConsentStatus(
                    document=document,
                    state=state,
                    signed_version=version,
                    signed_at=signed_at,
                    email_changed_at=email_changed_at,
                )
            )
        statuses[patient_id] = rows
    return statuses


def consent_status(patient):
    """[ConsentStatus] of one patient, one per current kind of consent."""
    return consent_status_for_patients([patient.pk])[patient.pk]


def consent_document_for_patient(document_id):
    """A published consent document (current or replaced), or None. Drafts are never shown."""
    return ConsentDocument.objects.published().filter(pk=document_id).first()


def consent_signature(patient, document):
    return ConsentSignature.objects.filter(patient=patient, document=document).first()


def consent_signatures_for_list(user):
    """Signatures of the patients the user may see (metadata only), newest first."""
    return (
        ConsentSignature.objects.filter(patient__in=access.visible_patients(user))
        .select_related("document")
        .order_by("-signed_at", "-id")
    )


def education_modules():
    return EducationModule.objects.filter(active=True).order_by("order", "id")


def education_progress(patient):
    """The active education modules, each with `read_at` (None when not yet read). One query."""
    read = EducationProgress.objects.filter(patient=patient, module=OuterRef("pk")).values("read_at")[:1]
    return list(education_modules().annotate(read_at=Subquery(read)))


def education_module(slug):
    return education_modules().filter(slug=slug).first()


def education_read_at(patient, module):
    return EducationProgress.objects.filter(patient=patient, module=module).values_list("read_at", flat=True).first()


def own_patient_record(user):
    """The signed-in patient's own record, or None when the account is not linked to one yet."""
    return access.visible_patients(user).filter(user=user).first()


# Safety alerts ------------------------------------------------------------------------------------


def visible_safety_alerts(user):
    """Alerts about the user's patients, each with `open_for_me` (went to the user, not yet acknowledged by
    them), open-for-me first then newest; recipients and acknowledgements in two more queries. Callers
    check Permission.VIEW_SAFETY_ALERTS: a patient reaches their record but not these."""
    user_id = user.pk if user.is_authenticated else None
    to_me = SafetyAlertRecipient.objects.filter(alert=OuterRef("pk"), clinician_id=user_id)
    acknowledged_by_me = SafetyAlertAcknowledgement.objects.filter(alert=OuterRef("pk"), clinician_id=user_id)
    return (
        SafetyAlert.objects.filter(patient__in=access.visible_patients(user))
        .annotate(open_for_me=Exists(to_me) & ~Exists(acknowledged_by_me))
        .select_related("patient")
        .prefetch_related(
            Prefetch("recipients", queryset=SafetyAlertRecipient.objects.select_related("clinician")),
            Prefetch("acknowledgements", queryset=SafetyAlertAcknowledgement.objects.select_related("clinician")),
        )
        .order_by("-open_for_me", "-raised_at", "-id")
    )


def open_safety_alerts_for(user, *, limit=50):
    """The alerts still waiting for this clinician's acknowledgement, newest first, in one query."""
    if not user.is_authenticated or user.role not in user.CLINICIAN_ROLES:
        return []
    to_me = SafetyAlertRecipient.objects.filter(alert=OuterRef("pk"), clinician=user)
    acknowledged_by_me = SafetyAlertAcknowledgement.objects.filter(alert=OuterRef("pk"), clinician=user)
    return list(
        SafetyAlert.objects.filter(patient__in=access.visible_patients(user))
        .filter(Exists(to_me), ~Exists(acknowledged_by_me))
        .select_related("patient")
        .order_by("-raised_at", "-id")[:limit]
    )


def safety_alert_recipients(alert):
    """Who an alert went to, each with their acknowledgement or None: for the chart and for messaging."""
    acknowledgements = {a.clinician_id: a for a in SafetyAlertAcknowledgement.objects.filter(alert=alert)}
    return [(r, acknowledgements.get(r.clinician_id)) for r in alert.recipients.select_related("clinician")]


def safety_alerts_for_chart(user, patient):
    """The patient's alerts, each with `rows`: (recipient, acknowledgement or None). Three queries."""
    alerts = list(visible_safety_alerts(user).filter(patient=patient))
    for alert in alerts:
        acknowledgements = {a.clinician_id: a for a in alert.acknowledgements.all()}
        alert.rows = [(r, acknowledgements.get(r.clinician_id)) for r in alert.recipients.all()]
    return alerts


# Identity changes and referral reconciliation ------------------------------------------------------

IDENTITY_CHANGES_SHOWN = 50


def identity_changes(user, patient):
    """The latest changes to the patient's name, date of birth, e-mail, phone and state, with the values before
    and after, newest first. `patient` comes from kapcare.access; the role is checked here (403, audited)."""
    access.require(user, access.Permission.VIEW_IDENTITY_CHANGES, patient)
    return IdentityChange.objects.filter(patient=patient).select_related("changed_by").order_by("-changed_at", "-id")


def reconciliations_for_list(user, *, status=ReferralReconciliation.Status.PENDING):
    """Referrals of known addresses waiting for (or resolved by) the user's medical group, oldest first."""
    entries = access.visible_reconciliations(user).select_related("existing_patient", "referred_by", "resolved_by")
    return entries.filter(status=status) if status else entries

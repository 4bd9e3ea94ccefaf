import functools
import hashlib
import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst

from kapcare.us_states import USState


@functools.cache
def known_time_zones() -> frozenset:
    """The IANA time zones of the tz database (zoneinfo.available_timezones() walks its folder on every call)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value):
    if value not in known_time_zones():
        raise ValidationError(f"{value!r} is not a known time zone, such as America/New_York.")


class Stage(models.TextChoices):
    """Where the patient is in their course of care, kept current by the services that move it."""

    REFERRED = "referred", "Referred"
    INTAKE = "intake", "Intake"
    EVALUATION = "evaluation", "Awaiting evaluation"
    PREPARATION = "preparation", "Preparation"
    DOSING = "dosing", "Dosing"
    MAINTENANCE = "maintenance", "Maintenance"
    COMPLETED = "completed", "Completed (discharged)"
    INELIGIBLE = "ineligible", "Ineligible"
    DISCONTINUED = "discontinued", "Discontinued"


class PatientQuerySet(models.QuerySet):
    def for_list(self):
        return self.order_by("last_name", "first_name", "id")


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField("e-mail address")
    phone = models.CharField(max_length=30, blank=True)
    state = models.CharField("US state", max_length=2, choices=USState.choices)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.REFERRED)
    medical_group = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient_record",
        help_text="The patient's portal account, once they accept the invitation.",
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="referred_patients"
    )
    # Profile the patient completes in the portal.
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    emergency_contact_relationship = models.CharField(max_length=100, blank=True)
    chaperone_name = models.CharField(max_length=200, blank=True, help_text="Sits with the patient in remote sessions.")
    chaperone_phone = models.CharField(max_length=30, blank=True)
    chaperone_email = models.EmailField(blank=True)
    # Kept current by the intake service (assessments), so the stage can be derived down here.
    intake_submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="patient_email_unique_ci"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="patient_name_order"),
            # The evaluation queue: the few patients at one stage, not a pass over all (bench/NOTES.md).
            models.Index(fields=["stage"], name="patient_stage"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


class Referral(models.Model):
    """What the referring therapist tells the prescriber, read when judging eligibility and the dose."""

    class Reason(models.TextChoices):
        DEPRESSION = "depression", "Depression"
        TREATMENT_RESISTANT_DEPRESSION = "trd", "Treatment-resistant depression"
        ANXIETY = "anxiety", "Anxiety"
        TRAUMA = "trauma", "PTSD or trauma"
        OCD = "ocd", "Obsessive-compulsive disorder"
        SUBSTANCE_USE = "substance_use", "Substance use (in remission)"
        EXISTENTIAL_DISTRESS = "existential", "Existential or end-of-life distress"
        OTHER = "other", "Other"

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="referral")
    reasons = models.JSONField(default=list, help_text="Reason codes, from Referral.Reason.")
    reason_details = models.TextField("reason for referral", blank=True)
    current_diagnoses = models.TextField(blank=True)
    current_treatment = models.TextField(blank=True)
    current_medications = models.TextField("current medications (as known)", blank=True)
    clinical_summary = models.TextField("clinical summary for the prescriber", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Referral of {self.patient_id}"

    def get_reasons_display(self):
        labels = dict(self.Reason.choices)
        return [labels.get(code, code) for code in self.reasons]


class Invitation(models.Model):
    """A single-use, expiring link to the portal. The link carries a random token (256 bits) made when the
    e-mail is sent; only its SHA-256 is stored, so neither the database nor SECRET_KEY rebuilds a link."""

    VALID_FOR_DAYS = 7
    MAX_FAILED_CONFIRMATIONS = 5  # wrong dates of birth before the link is switched off

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="invitations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Set when a newer invitation replaces it.")
    token_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the link's token; empty until sent.")
    failed_confirmations = models.PositiveSmallIntegerField(
        default=0, help_text="Wrong dates of birth given with this link."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["token_hash"], name="invitation_token_hash")]

    def __str__(self):
        return f"Invitation for {self.patient_id}"

    @property
    def is_usable(self):
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class IdentityChange(models.Model):
    """One change to a field that identifies the patient (name, date of birth, e-mail, phone, state), with the
    values before and after: the care team reads who redirected what, and when. Never changed or deleted."""

    FIELDS = ("first_name", "last_name", "date_of_birth", "email", "phone", "state")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identity_changes")
    field = models.CharField(max_length=30)
    old_value = models.CharField(max_length=254, blank=True)
    new_value = models.CharField(max_length=254, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_by_name = models.CharField(max_length=300, blank=True, help_text="As the actor was named at the time.")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["patient", "-changed_at"], name="identity_change_patient_at")]

    def __str__(self):
        return f"{self.field} of {self.patient_id} changed"

    @property
    def field_label(self):
        return capfirst(Patient._meta.get_field(self.field).verbose_name)


class ReferralReconciliation(models.Model):
    """A referral whose e-mail address KAPCare already knows (a patient's or a staff account's). It is not made
    into a second record: a coordinator of the medical group decides whether it is the same person (the referring
    therapist joins the existing care team) or declines it. The referring therapist was answered exactly as for
    a new referral, so nobody learns from the answer whose address it is."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a coordinator"
        LINKED = "linked", "Linked to the existing record"
        DECLINED = "declined", "Declined"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    medical_group = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    existing_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="reconciliations"
    )
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField("e-mail address")
    phone = models.CharField(max_length=30, blank=True)
    state = models.CharField("US state", max_length=2, choices=USState.choices)
    details = models.JSONField(default=dict, help_text="The referral's details, kept for the record if linked.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["medical_group", "status", "created_at"], name="reconciliation_queue")]

    def __str__(self):
        return f"Referral to reconcile ({self.get_status_display()})"

    @property
    def patient_id(self):
        """The audit trail files the attempt with the existing patient, when there is one."""
        return self.existing_patient_id

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"


class CareTeamMemberQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(active_to__isnull=True) | Q(active_to__gt=at), active_from__lte=at)


class CareTeamMember(models.Model):
    """A clinician's place on a patient's care team: the only way a clinician reaches a patient."""

    class Role(models.TextChoices):
        THERAPIST = "therapist", "Therapist"
        PRESCRIBER = "prescriber", "Prescriber"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams")
    role = models.CharField(max_length=20, choices=Role.choices)
    active_from = models.DateTimeField(default=timezone.now)
    active_to = models.DateTimeField(null=True, blank=True)

    objects = CareTeamMemberQuerySet.as_manager()

    class Meta:
        ordering = ["role", "active_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=Q(active_to__isnull=True),
                name="care_team_one_open_membership",
            ),
        ]
        indexes = [models.Index(fields=["clinician", "patient"], name="care_team_clinician")]

    def __str__(self):
        return f"{self.clinician} ({self.get_role_display()}) for {self.patient_id}"


class AssignmentNeedQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)


class AssignmentNeed(models.Model):
    """A row of the coordinators' assignment queue: a patient who needs a clinician put on the care team, because
    no approved prescriber holds a licence in the patient's state at referral, or because a clinician on the team
    can no longer practise for the patient (a credential expired: hand the patient over). Nothing is silently
    dropped: the row stays open until a cleared clinician takes that role on the team."""

    class Reason(models.TextChoices):
        NO_PRESCRIBER = "no_prescriber", "No prescriber licensed in the patient's state"
        HANDOVER = "handover", "Clinician's credentials lapsed: hand over"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assignment_needs")
    role = models.CharField(max_length=20, choices=CareTeamMember.Role.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The clinician to hand over from.",
    )
    detail = models.CharField(max_length=500, blank=True, help_text="Which credential is missing (no patient data).")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AssignmentNeedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "role"], condition=Q(resolved_at__isnull=True), name="assignment_need_open_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} ({self.get_role_display()}) for {self.patient_id}"


# Consent and education ------------------------------------------------------------------------


class ConsentKind(models.TextChoices):
    KAP_INFORMED_CONSENT = "kap_informed_consent", "Informed consent to ketamine-assisted psychotherapy"
    REMOTE_DOSING_CHAPERONE = "remote_dosing_chaperone", "Remote dosing and chaperone agreement"
    RELEASE_OF_INFORMATION = "release_of_information", "Release of information between prescriber and therapist"
    CONSENT_TO_TOUCH = "consent_to_touch", "Consent to touch"


class ConsentDocumentQuerySet(models.QuerySet):
    def published(self, at=None):
        return self.filter(published_at__isnull=False, published_at__lte=at or timezone.now())

    def current(self, at=None):
        """The latest published version of each kind."""
        at = at or timezone.now()
        newer = self.model.objects.published(at).filter(
            kind=models.OuterRef("kind"), version__gt=models.OuterRef("version")
        )
        return self.published(at).exclude(models.Exists(newer))


class ConsentDocument(models.Model):
    """One version of a consent text. Published versions never change: a new text is a new version,
    and every patient who signed an older version of a required kind is asked to sign again."""

    # Changing any of these after publishing would change what patients signed.
    LOCKED_WHEN_PUBLISHED = ("kind", "version", "title", "body", "required", "published_at")

    kind = models.CharField(max_length=40, choices=ConsentKind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text. A blank line starts a new paragraph.")
    required = models.BooleanField(
        default=True, help_text="Required documents must be signed before the prescriber's evaluation and any dosing."
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Empty while a draft. Once published, the document cannot be edited: make a new version instead.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consent_document_kind_version_unique"),
        ]

    def __str__(self):
        return f"{self.title} (version {self.version})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values(*self.LOCKED_WHEN_PUBLISHED).first()
            if stored and stored["published_at"] is not None:
                changed = [f for f in self.LOCKED_WHEN_PUBLISHED if stored[f] != getattr(self, f)]
                if changed:
                    raise ValidationError("A published consent document cannot be changed. Make a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.published_at is not None:
            raise ValidationError("A published consent document cannot be deleted. Publish a new version instead.")
        return super().delete(*args, **kwargs)

    def clean(self):
        if self.published_at is None and self.kind and self.version:
            newest = type(self).objects.filter(kind=self.kind, published_at__isnull=False).exclude(pk=self.pk)
            highest = newest.aggregate(highest=models.Max("version"))["highest"]
            if highest is not None and self.version <= highest:
                raise ValidationError(
                    {"version": f"Version {highest} of this document is published: a new version must be higher."}
                )

    @property
    def is_published(self):
        return self.published_at is not None and self.published_at <= timezone.now()

    @property
    def text_sha256(self):
        """The hash a signature records: proof of the exact text the patient signed."""
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


class ConsentSignature(models.Model):
    """A patient's signature on one version of a consent document. Append-only: the database refuses
    UPDATE and DELETE (see the migration); the hash proves which text was signed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_signatures")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="signatures")
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    signer_session = models.CharField(
        max_length=80, blank=True, help_text="The signer's session or API token, as a hash or the token's id."
    )
    text_sha256 = models.CharField("SHA-256 of the text signed", max_length=64)
    email_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the patient's e-mail address was changed shortly before signing, or before the signing "
        "account was opened: the therapist checks.",
    )

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "document"], name="consent_signature_once_per_version"),
        ]

    def __str__(self):
        return f"Signature of document {self.document_id} by {self.patient_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A signed consent never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A signed consent is never deleted.")


class EducationModule(models.Model):
    """Something the patient reads before dosing (what KAP is, how to prepare, integration)."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text="Plain text. A blank line starts a new paragraph.")
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return self.title


class EducationProgress(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="education_progress")
    module = models.ForeignKey(EducationModule, on_delete=models.PROTECT, related_name="progress")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["read_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "module"], name="education_progress_once"),
        ]

    def __str__(self):
        return f"{self.module_id} read by {self.patient_id}"


# Safety alerts ---------------------------------------------------------------------------------


class AlertRole(models.TextChoices):
    """The place from which someone is told about an alert and acknowledges it. An alert is open for the
    clinician roles of the care team as they are now, not for the people who held them when it was raised."""

    THERAPIST = "therapist", "Therapist"
    PRESCRIBER = "prescriber", "Prescriber"
    COORDINATOR = "coordinator", "Coordinator (escalation)"


# Each alert waits for an acknowledgement in each of these roles. A coordinator's acknowledgement records what
# they did on an escalation; it does not stand in for the clinicians (kap-domain.md: only the clinicians
# treat; a coordinator matches and links).
CLINICIAN_ALERT_ROLES = (AlertRole.THERAPIST, AlertRole.PRESCRIBER)


class SafetyAlertQuerySet(models.QuerySet):
    def open_for_role(self, role):
        """Alerts no one has acknowledged in this role yet (e.g. `open_for_role(AlertRole.PRESCRIBER)`)."""
        acknowledged = SafetyAlertAcknowledgement.objects.filter(alert=models.OuterRef("pk"), role=role)
        return self.exclude(models.Exists(acknowledged))

    def open(self):
        """Alerts still waiting for the therapist or the prescriber."""
        waiting = Q()
        for role in CLINICIAN_ALERT_ROLES:
            waiting |= ~models.Exists(SafetyAlertAcknowledgement.objects.filter(alert=models.OuterRef("pk"), role=role))
        return self.filter(waiting)

    def fully_acknowledged(self):
        return self.exclude(pk__in=self.open().values("pk"))

    def holding_dose(self):
        """Alerts that hold the patient's dose: urgent or high, and not yet acknowledged as the prescriber. By
        role, not by person, so the hold follows whoever is the patient's prescriber; a coordinator's
        acknowledgement of an escalation does not release it."""
        return self.open_for_role(AlertRole.PRESCRIBER).filter(
            severity__in=[SafetyAlert.Severity.URGENT, SafetyAlert.Severity.HIGH]
        )


class SafetyAlert(models.Model):
    """A risk signal about a patient that the patient's therapist and prescriber must each acknowledge.

    Raised by rules in any app (`patients.services.safety_alert_raise`). It is open for a role (AlertRole),
    not for a person: while no one has acknowledged it as the prescriber, it waits for whoever is the
    patient's prescriber now, and a new prescriber inherits it (and is told). `SafetyAlertRecipient` keeps
    who was told, when and why (raised, handed over, escalated); `SafetyAlertAcknowledgement` keeps who did
    what in which role. `reason` says in a few words why, without copying the patient's free text."""

    class Kind(models.TextChoices):
        # An open set: rules in other apps add their kind here. The column has no database choices, so
        # adding one needs no migration.
        SEVERE_ADVERSE_EVENT = "severe_adverse_event", "Severe side effect"
        ADVERSE_EVENT_EMERGENCY = "adverse_event_emergency", "Side effect: emergency services called or session stopped"
        CHECK_IN_NOT_OK = "check_in_not_ok", "Check-in: the patient is not OK"
        SUICIDAL_INTENT_ON_INTAKE = "suicidal_intent_on_intake", "Suicidal intent reported on intake"
        SUICIDAL_THOUGHTS_ON_INTAKE = "suicidal_thoughts_on_intake", "Current suicidal thoughts reported on intake"
        PHQ9_ITEM9 = "phq9_item9", "PHQ-9 item 9 (thoughts of self-harm) above 0"
        CSSRS_RISK = "cssrs_risk", "C-SSRS screen: moderate or high risk"
        PHQ9_RISE = "phq9_rise", "PHQ-9 rose by 5 or more"
        VITALS_OUT_OF_RANGE = "vitals_out_of_range", "Vital signs out of range"
        MEDICINE_COUNT_DISCREPANCY = "medicine_count_discrepancy", "Take-home tablet count does not match"

    class Severity(models.TextChoices):
        URGENT = "urgent", "Urgent"
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="safety_alerts")
    kind = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    reason = models.CharField(max_length=300)
    source_type = models.CharField(max_length=50, help_text="The record that raised it, e.g. treatment.adverseevent.")
    source_id = models.CharField(max_length=64)
    raised_at = models.DateTimeField(default=timezone.now)

    objects = SafetyAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            # One alert of a kind per source record: a retried rule does not alert twice.
            models.UniqueConstraint(fields=["kind", "source_type", "source_id"], name="safety_alert_once_per_source"),
        ]
        indexes = [
            models.Index(fields=["patient", "-raised_at"], name="safety_alert_patient_time"),
            # Alerts raised in a window, any patient (the reminder backstop): bench/NOTES.md has the EXPLAIN.
            models.Index(fields=["raised_at"], name="safety_alert_raised_at"),
        ]

    def __str__(self):
        return f"{self.kind_label} for {self.patient_id}"

    @property
    def kind_label(self):
        return dict(self.Kind.choices).get(self.kind, self.kind.replace("_", " ").capitalize())

    # These read `acknowledgements.all()`: prefetch it (the selectors do) to keep a list's queries fixed.

    def acknowledgement_in(self, role):
        """The first acknowledgement given in this role, or None."""
        return next((a for a in self.acknowledgements.all() if a.role == role), None)

    @property
    def waiting_for(self):
        """The clinician roles that have not acknowledged it yet."""
        return [role for role in CLINICIAN_ALERT_ROLES if self.acknowledgement_in(role) is None]

    @property
    def fully_acknowledged(self):
        return not self.waiting_for

    @property
    def role_rows(self):
        """(role label, acknowledgement or None) per clinician role, for the chart and the alert page."""
        return [(AlertRole(role).label, self.acknowledgement_in(role)) for role in CLINICIAN_ALERT_ROLES]


class SafetyAlertRecipient(models.Model):
    """Someone an alert was sent to, in which role, when and why. Written when it is raised (the team then),
    when a new clinician takes over a role it is still open for, and when it is escalated to a coordinator.
    A row is history: who must still act is decided by the roles (SafetyAlertQuerySet.open_for_role)."""

    class Via(models.TextChoices):
        RAISED = "raised", "When it was raised"
        HANDOVER = "handover", "Handed over on a change of clinician"
        ESCALATION = "escalation", "Escalated: unacknowledged after 4 hours"

    alert = models.ForeignKey(SafetyAlert, on_delete=models.PROTECT, related_name="recipients")
    # A clinician, or the coordinator it was escalated to (the name is kept for the existing queries).
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=AlertRole.choices)
    via = models.CharField(max_length=12, choices=Via.choices, default=Via.RAISED)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "clinician"], name="safety_alert_recipient_once"),
        ]
        indexes = [models.Index(fields=["clinician", "alert"], name="safety_alert_recipient_user")]

    def __str__(self):
        return f"Alert {self.alert_id} to {self.clinician_id}"


class SafetyAlertAcknowledgement(models.Model):
    """Who acknowledged an alert, in which role, with the action they took. One per person per alert, and
    one per clinician role (the service holds the alert's row while it writes); never changed."""

    alert = models.ForeignKey(SafetyAlert, on_delete=models.PROTECT, related_name="acknowledgements")
    # The clinician or the coordinator who acknowledged (the name is kept for the existing queries).
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=AlertRole.choices)
    note = models.TextField("action taken")
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["acknowledged_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "clinician"], name="safety_alert_acknowledged_once"),
            models.CheckConstraint(condition=~Q(note=""), name="safety_alert_acknowledgement_has_note"),
        ]
        indexes = [models.Index(fields=["alert", "role"], name="safety_alert_ack_role")]

    def __str__(self):
        return f"Alert {self.alert_id} acknowledged by {self.clinician_id} as {self.role}"


# Due work ----------------------------------------------------------------------------------------------


class DueItemQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def in_panel_order(self):
        return self.order_by("urgency", "due_at", "id")


class DueItem(models.Model):
    """One piece of work due for a patient (a questionnaire, a follow-up visit, a note to sign...), stored so
    that dashboards read "open, due before X, most urgent first, the first N" from an index instead of
    deriving the schedule for a whole caseload. The rules stay where they are (treatment's selectors); these
    rows are a cache of their answer, kept by the services that change the facts (in the same transaction,
    through `patients.due_work.refresh`) and reconciled by a beat task and `manage.py reconcile_due_work`.

    Who must act is the `role` on the patient's care team, read through the care team when the panel is
    read, so a care team change never leaves a row with a stale owner. `object_id` points at the record the
    work is about (its model follows from `kind`); `key` tells two items of one kind apart (an instrument's
    code, a record's id). `urgency` orders within a kind (lower first), then `due_at`."""

    class Kind(models.TextChoices):
        QUESTIONNAIRE = "questionnaire", "Questionnaire due"
        FOLLOW_UP = "follow_up", "Follow-up visit due"
        DOCUMENTATION = "documentation", "Documentation missing before a follow-up"
        NOTE_TO_SIGN = "note_to_sign", "Progress note to sign"
        DOSE_PLAN_ENDING = "dose_plan_ending", "Dose plan nearing exhaustion"
        HELD_SESSION = "held_session", "Dosing session on hold"

    class Role(models.TextChoices):
        THERAPIST = "therapist", "Therapist"
        PRESCRIBER = "prescriber", "Prescriber"
        TEAM = "team", "Therapist and prescriber"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="due_items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=40)
    role = models.CharField(max_length=20, choices=Role.choices)
    object_id = models.UUIDField(null=True, blank=True)
    due_at = models.DateTimeField()
    due_on = models.DateField()  # the day it is due on the clinic's calendar, as the rule said
    urgency = models.SmallIntegerField(default=1)
    detail = models.CharField(max_length=400, blank=True)  # the rule's reason in words, no free text
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = DueItemQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "key"], condition=Q(resolved_at__isnull=True), name="due_item_one_open"
            ),
        ]
        indexes = [
            # The panels: open rows of a kind, most urgent and soonest first (then the care team probe).
            models.Index(
                fields=["kind", "urgency", "due_at", "id"], condition=Q(resolved_at__isnull=True), name="due_item_panel"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.patient_id} on {self.due_on}"

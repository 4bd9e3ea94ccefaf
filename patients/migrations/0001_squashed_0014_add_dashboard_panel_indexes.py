"""patients 0001-0014 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import uuid

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import patients.models

# Not carried over (nothing to do on a fresh database): 0009's fill_roles backfill.
# 0004's triggers and 0005's seeded consents and education modules.
# SQLite: 0008 rebuilt patients_consentsignature to add columns, which dropped its 0004 triggers there; the chain
# ends without them (only the consent document's remain); patients 0015 puts them back.
POSTGRES_FORWARD = """
CREATE FUNCTION patients_consentsignature_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'patients_consentsignature is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER patients_consentsignature_append_only
    BEFORE UPDATE OR DELETE ON patients_consentsignature
    FOR EACH ROW EXECUTE FUNCTION patients_consentsignature_refuse_change();

CREATE FUNCTION patients_consentdocument_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NULL THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a published consent document is never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.kind, NEW.version, NEW.title, NEW.body, NEW.required, NEW.published_at)
        IS DISTINCT FROM (OLD.kind, OLD.version, OLD.title, OLD.body, OLD.required, OLD.published_at) THEN
        RAISE EXCEPTION 'a published consent document never changes: publish a new version'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER patients_consentdocument_published_locked
    BEFORE UPDATE OR DELETE ON patients_consentdocument
    FOR EACH ROW EXECUTE FUNCTION patients_consentdocument_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS patients_consentsignature_append_only ON patients_consentsignature;
DROP FUNCTION IF EXISTS patients_consentsignature_refuse_change();
DROP TRIGGER IF EXISTS patients_consentdocument_published_locked ON patients_consentdocument;
DROP FUNCTION IF EXISTS patients_consentdocument_refuse_change();
"""
LOCKED = ("kind", "version", "title", "body", "required", "published_at")
SQLITE_FORWARD = [
    f"""CREATE TRIGGER patients_consentdocument_refuse_update BEFORE UPDATE ON patients_consentdocument
    WHEN OLD.published_at IS NOT NULL AND ({" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LOCKED)})
    BEGIN SELECT RAISE(ABORT, 'a published consent document never changes: publish a new version'); END;""",
    """CREATE TRIGGER patients_consentdocument_refuse_delete BEFORE DELETE ON patients_consentdocument
    WHEN OLD.published_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a published consent document is never deleted'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS patients_consentdocument_refuse_update;",
    "DROP TRIGGER IF EXISTS patients_consentdocument_refuse_delete;",
]


def lock_consents(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def unlock_consents(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def seed_consents_and_education(apps, schema_editor):
    from patients import content

    content.seed(
        apps.get_model("patients", "ConsentDocument"), apps.get_model("patients", "EducationModule"), timezone.now()
    )


class Migration(migrations.Migration):
    replaces = [
        ("patients", "0001_add_patient_and_care_team"),
        ("patients", "0002_add_referral_invitation_and_profile"),
        ("patients", "0003_add_consents_and_education"),
        ("patients", "0004_refuse_changes_to_signed_consents"),
        ("patients", "0005_seed_consents_and_education"),
        ("patients", "0006_drop_stored_invitation_token"),
        ("patients", "0007_add_safety_alerts"),
        ("patients", "0008_add_identity_changes_reconciliation_and_invitation_tokens"),
        ("patients", "0009_route_alerts_to_roles"),
        ("patients", "0010_describe_consent_email_change_flag"),
        ("patients", "0011_due_items"),
        ("patients", "0012_indexes_for_planning"),
        ("patients", "0013_assignment_need"),
        ("patients", "0014_add_dashboard_panel_indexes"),
    ]

    initial = True

    dependencies = [
        ("accounts", "0005_clinician_approval"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Patient",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("first_name", models.CharField(max_length=100)),
                ("last_name", models.CharField(max_length=100)),
                ("date_of_birth", models.DateField()),
                ("email", models.EmailField(max_length=254, verbose_name="e-mail address")),
                ("phone", models.CharField(blank=True, max_length=30)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("AL", "Alabama"),
                            ("AK", "Alaska"),
                            ("AZ", "Arizona"),
                            ("AR", "Arkansas"),
                            ("CA", "California"),
                            ("CO", "Colorado"),
                            ("CT", "Connecticut"),
                            ("DE", "Delaware"),
                            ("DC", "District of Columbia"),
                            ("FL", "Florida"),
                            ("GA", "Georgia"),
                            ("HI", "Hawaii"),
                            ("ID", "Idaho"),
                            ("IL", "Illinois"),
                            ("IN", "Indiana"),
                            ("IA", "Iowa"),
                            ("KS", "Kansas"),
                            ("KY", "Kentucky"),
                            ("LA", "Louisiana"),
                            ("ME", "Maine"),
                            ("MD", "Maryland"),
                            ("MA", "Massachusetts"),
                            ("MI", "Michigan"),
                            ("MN", "Minnesota"),
                            ("MS", "Mississippi"),
                            ("MO", "Missouri"),
                            ("MT", "Montana"),
                            ("NE", "Nebraska"),
                            ("NV", "Nevada"),
                            ("NH", "New Hampshire"),
                            ("NJ", "New Jersey"),
                            ("NM", "New Mexico"),
                            ("NY", "New York"),
                            ("NC", "North Carolina"),
                            ("ND", "North Dakota"),
                            ("OH", "Ohio"),
                            ("OK", "Oklahoma"),
                            ("OR", "Oregon"),
                            ("PA", "Pennsylvania"),
                            ("PR", "Puerto Rico"),
                            ("RI", "Rhode Island"),
                            ("SC", "South Carolina"),
                            ("SD", "South Dakota"),
                            ("TN", "Tennessee"),
                            ("TX", "Texas"),
                            ("UT", "Utah"),
                            ("VT", "Vermont"),
                            ("VA", "Virginia"),
                            ("WA", "Washington"),
                            ("WV", "West Virginia"),
                            ("WI", "Wisconsin"),
                            ("WY", "Wyoming"),
                        ],
                        max_length=2,
                        verbose_name="US state",
                    ),
                ),
                ("time_zone", models.CharField(max_length=64, validators=[patients.models.validate_time_zone])),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("referred", "Referred"),
                            ("intake", "Intake"),
                            ("evaluation", "Awaiting evaluation"),
                            ("preparation", "Preparation"),
                            ("dosing", "Dosing"),
                            ("maintenance", "Maintenance"),
                            ("completed", "Completed (discharged)"),
                            ("ineligible", "Ineligible"),
                            ("discontinued", "Discontinued"),
                        ],
                        default="referred",
                        max_length=20,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "medical_group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="patients", to="accounts.organization"
                    ),
                ),
                (
                    "referred_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="referred_patients",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        blank=True,
                        help_text="The patient's portal account, once they accept the invitation.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="patient_record",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("chaperone_email", models.EmailField(blank=True, max_length=254)),
                (
                    "chaperone_name",
                    models.CharField(blank=True, help_text="Sits with the patient in remote sessions.", max_length=200),
                ),
                ("chaperone_phone", models.CharField(blank=True, max_length=30)),
                ("emergency_contact_name", models.CharField(blank=True, max_length=200)),
                ("emergency_contact_phone", models.CharField(blank=True, max_length=30)),
                ("emergency_contact_relationship", models.CharField(blank=True, max_length=100)),
                ("intake_submitted_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["last_name", "first_name", "id"],
                "indexes": [
                    models.Index(fields=["last_name", "first_name", "id"], name="patient_name_order"),
                    models.Index(fields=["stage"], name="patient_stage"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("email"), name="patient_email_unique_ci"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CareTeamMember",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(choices=[("therapist", "Therapist"), ("prescriber", "Prescriber")], max_length=20),
                ),
                ("active_from", models.DateTimeField(default=django.utils.timezone.now)),
                ("active_to", models.DateTimeField(blank=True, null=True)),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="care_teams",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="care_team", to="patients.patient"
                    ),
                ),
            ],
            options={
                "ordering": ["role", "active_from"],
                "indexes": [models.Index(fields=["clinician", "patient"], name="care_team_clinician")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("active_to__isnull", True)),
                        fields=("patient", "clinician"),
                        name="care_team_one_open_membership",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "revoked_at",
                    models.DateTimeField(blank=True, help_text="Set when a newer invitation replaces it.", null=True),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="invitations", to="patients.patient"
                    ),
                ),
                (
                    "failed_confirmations",
                    models.PositiveSmallIntegerField(default=0, help_text="Wrong dates of birth given with this link."),
                ),
                (
                    "token_hash",
                    models.CharField(
                        blank=True, help_text="SHA-256 of the link's token; empty until sent.", max_length=64
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["token_hash"], name="invitation_token_hash")],
            },
        ),
        migrations.CreateModel(
            name="Referral",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reasons", models.JSONField(default=list, help_text="Reason codes, from Referral.Reason.")),
                ("reason_details", models.TextField(blank=True, verbose_name="reason for referral")),
                ("current_diagnoses", models.TextField(blank=True)),
                ("current_treatment", models.TextField(blank=True)),
                ("current_medications", models.TextField(blank=True, verbose_name="current medications (as known)")),
                ("clinical_summary", models.TextField(blank=True, verbose_name="clinical summary for the prescriber")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="referral", to="patients.patient"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="EducationModule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(unique=True)),
                ("title", models.CharField(max_length=200)),
                ("summary", models.CharField(blank=True, max_length=300)),
                ("body", models.TextField(help_text="Plain text. A blank line starts a new paragraph.")),
                ("order", models.PositiveIntegerField(default=0)),
                ("active", models.BooleanField(default=True)),
            ],
            options={
                "ordering": ["order", "id"],
            },
        ),
        migrations.CreateModel(
            name="ConsentDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("kap_informed_consent", "Informed consent to ketamine-assisted psychotherapy"),
                            ("remote_dosing_chaperone", "Remote dosing and chaperone agreement"),
                            ("release_of_information", "Release of information between prescriber and therapist"),
                            ("consent_to_touch", "Consent to touch"),
                        ],
                        max_length=40,
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(help_text="Plain text. A blank line starts a new paragraph.")),
                (
                    "required",
                    models.BooleanField(
                        default=True,
                        help_text="Required documents must be signed before the prescriber's evaluation and any dosing.",
                    ),
                ),
                (
                    "published_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Empty while a draft. Once published, the document cannot be edited: make a new version instead.",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["kind", "-version"],
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "version"), name="consent_document_kind_version_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="ConsentSignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("typed_name", models.CharField(max_length=200)),
                ("signed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="IP address")),
                ("text_sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the text signed")),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="signatures",
                        to="patients.consentdocument",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consent_signatures",
                        to="patients.patient",
                    ),
                ),
                (
                    "email_changed_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Set when the patient's e-mail address was changed shortly before signing, or before the signing account was opened: the therapist checks.",
                        null=True,
                    ),
                ),
                (
                    "signer_session",
                    models.CharField(
                        blank=True,
                        help_text="The signer's session or API token, as a hash or the token's id.",
                        max_length=80,
                    ),
                ),
            ],
            options={
                "ordering": ["-signed_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(fields=("patient", "document"), name="consent_signature_once_per_version")
                ],
            },
        ),
        migrations.CreateModel(
            name="EducationProgress",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("read_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "module",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="progress",
                        to="patients.educationmodule",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="education_progress",
                        to="patients.patient",
                    ),
                ),
            ],
            options={
                "ordering": ["read_at", "id"],
                "constraints": [models.UniqueConstraint(fields=("patient", "module"), name="education_progress_once")],
            },
        ),
        migrations.CreateModel(
            name="SafetyAlert",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=40)),
                (
                    "severity",
                    models.CharField(
                        choices=[("urgent", "Urgent"), ("high", "High"), ("moderate", "Moderate")],
                        default="high",
                        max_length=10,
                    ),
                ),
                ("reason", models.CharField(max_length=300)),
                (
                    "source_type",
                    models.CharField(
                        help_text="The record that raised it, e.g. treatment.adverseevent.", max_length=50
                    ),
                ),
                ("source_id", models.CharField(max_length=64)),
                ("raised_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="safety_alerts", to="patients.patient"
                    ),
                ),
            ],
            options={
                "ordering": ["-raised_at", "-id"],
                "indexes": [
                    models.Index(fields=["patient", "-raised_at"], name="safety_alert_patient_time"),
                    models.Index(fields=["raised_at"], name="safety_alert_raised_at"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "source_type", "source_id"), name="safety_alert_once_per_source"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SafetyAlertAcknowledgement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("note", models.TextField(verbose_name="action taken")),
                ("acknowledged_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "alert",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acknowledgements",
                        to="patients.safetyalert",
                    ),
                ),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("therapist", "Therapist"),
                            ("prescriber", "Prescriber"),
                            ("coordinator", "Coordinator (escalation)"),
                        ],
                        max_length=20,
                    ),
                ),
            ],
            options={
                "ordering": ["acknowledged_at", "id"],
                "indexes": [models.Index(fields=["alert", "role"], name="safety_alert_ack_role")],
                "constraints": [
                    models.UniqueConstraint(fields=("alert", "clinician"), name="safety_alert_acknowledged_once"),
                    models.CheckConstraint(
                        condition=models.Q(("note", ""), _negated=True), name="safety_alert_acknowledgement_has_note"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="SafetyAlertRecipient",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("therapist", "Therapist"),
                            ("prescriber", "Prescriber"),
                            ("coordinator", "Coordinator (escalation)"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "alert",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recipients",
                        to="patients.safetyalert",
                    ),
                ),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "via",
                    models.CharField(
                        choices=[
                            ("raised", "When it was raised"),
                            ("handover", "Handed over on a change of clinician"),
                            ("escalation", "Escalated: unacknowledged after 4 hours"),
                        ],
                        default="raised",
                        max_length=12,
                    ),
                ),
            ],
            options={
                "ordering": ["sent_at", "role", "id"],
                "indexes": [models.Index(fields=["clinician", "alert"], name="safety_alert_recipient_user")],
                "constraints": [
                    models.UniqueConstraint(fields=("alert", "clinician"), name="safety_alert_recipient_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="IdentityChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("field", models.CharField(max_length=30)),
                ("old_value", models.CharField(blank=True, max_length=254)),
                ("new_value", models.CharField(blank=True, max_length=254)),
                (
                    "changed_by_name",
                    models.CharField(blank=True, help_text="As the actor was named at the time.", max_length=300),
                ),
                ("changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "changed_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="identity_changes",
                        to="patients.patient",
                    ),
                ),
            ],
            options={
                "ordering": ["-changed_at", "-id"],
                "indexes": [models.Index(fields=["patient", "-changed_at"], name="identity_change_patient_at")],
            },
        ),
        migrations.CreateModel(
            name="ReferralReconciliation",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("first_name", models.CharField(max_length=100)),
                ("last_name", models.CharField(max_length=100)),
                ("date_of_birth", models.DateField()),
                ("email", models.EmailField(max_length=254, verbose_name="e-mail address")),
                ("phone", models.CharField(blank=True, max_length=30)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("AL", "Alabama"),
                            ("AK", "Alaska"),
                            ("AZ", "Arizona"),
                            ("AR", "Arkansas"),
                            ("CA", "California"),
                            ("CO", "Colorado"),
                            ("CT", "Connecticut"),
                            ("DE", "Delaware"),
                            ("DC", "District of Columbia"),
                            ("FL", "Florida"),
                            ("GA", "Georgia"),
                            ("HI", "Hawaii"),
                            ("ID", "Idaho"),
                            ("IL", "Illinois"),
                            ("IN", "Indiana"),
                            ("IA", "Iowa"),
                            ("KS", "Kansas"),
                            ("KY", "Kentucky"),
                            ("LA", "Louisiana"),
                            ("ME", "Maine"),
                            ("MD", "Maryland"),
                            ("MA", "Massachusetts"),
                            ("MI", "Michigan"),
                            ("MN", "Minnesota"),
                            ("MS", "Mississippi"),
                            ("MO", "Missouri"),
                            ("MT", "Montana"),
                            ("NE", "Nebraska"),
                            ("NV", "Nevada"),
                            ("NH", "New Hampshire"),
                            ("NJ", "New Jersey"),
                            ("NM", "New Mexico"),
                            ("NY", "New York"),
                            ("NC", "North Carolina"),
                            ("ND", "North Dakota"),
                            ("OH", "Ohio"),
                            ("OK", "Oklahoma"),
                            ("OR", "Oregon"),
                            ("PA", "Pennsylvania"),
                            ("PR", "Puerto Rico"),
                            ("RI", "Rhode Island"),
                            ("SC", "South Carolina"),
                            ("SD", "South Dakota"),
                            ("TN", "Tennessee"),
                            ("TX", "Texas"),
                            ("UT", "Utah"),
                            ("VT", "Vermont"),
                            ("VA", "Virginia"),
                            ("WA", "Washington"),
                            ("WV", "West Virginia"),
                            ("WI", "Wisconsin"),
                            ("WY", "Wyoming"),
                        ],
                        max_length=2,
                        verbose_name="US state",
                    ),
                ),
                (
                    "details",
                    models.JSONField(default=dict, help_text="The referral's details, kept for the record if linked."),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for a coordinator"),
                            ("linked", "Linked to the existing record"),
                            ("declined", "Declined"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("resolution_note", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "existing_patient",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reconciliations",
                        to="patients.patient",
                    ),
                ),
                (
                    "medical_group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.organization"
                    ),
                ),
                (
                    "referred_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(fields=["medical_group", "status", "created_at"], name="reconciliation_queue")
                ],
            },
        ),
        migrations.CreateModel(
            name="DueItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("questionnaire", "Questionnaire due"),
                            ("follow_up", "Follow-up visit due"),
                            ("documentation", "Documentation missing before a follow-up"),
                            ("note_to_sign", "Progress note to sign"),
                            ("dose_plan_ending", "Dose plan nearing exhaustion"),
                            ("held_session", "Dosing session on hold"),
                        ],
                        max_length=20,
                    ),
                ),
                ("key", models.CharField(max_length=40)),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("therapist", "Therapist"),
                            ("prescriber", "Prescriber"),
                            ("team", "Therapist and prescriber"),
                        ],
                        max_length=20,
                    ),
                ),
                ("object_id", models.UUIDField(blank=True, null=True)),
                ("due_at", models.DateTimeField()),
                ("due_on", models.DateField()),
                ("urgency", models.SmallIntegerField(default=1)),
                ("detail", models.CharField(blank=True, max_length=400)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="due_items", to="patients.patient"
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=["kind", "urgency", "due_at", "id"],
                        name="due_item_panel",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("patient", "kind", "key"),
                        name="due_item_one_open",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AssignmentNeed",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "role",
                    models.CharField(choices=[("therapist", "Therapist"), ("prescriber", "Prescriber")], max_length=20),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("no_prescriber", "No prescriber licensed in the patient's state"),
                            ("handover", "Clinician's credentials lapsed: hand over"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "detail",
                    models.CharField(
                        blank=True, help_text="Which credential is missing (no patient data).", max_length=500
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "clinician",
                    models.ForeignKey(
                        blank=True,
                        help_text="The clinician to hand over from.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assignment_needs",
                        to="patients.patient",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("patient", "role"),
                        name="assignment_need_open_once",
                    )
                ],
            },
        ),
        migrations.RunPython(lock_consents, unlock_consents),
        migrations.RunPython(seed_consents_and_education, migrations.RunPython.noop),
    ]

"""treatment 0001-0015 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import datetime
import uuid
from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import kapcare.signing.operations
import patients.models

# Not carried over (nothing to do on a fresh database): the backfills of 0008 (fill_signed_by) and 0013
# (sign_summaries_of_signed_notes).
# 0006's append-only and frozen-with-the-note triggers; its progress-note trigger, like those of 0002 and 0003,
# gave way to the signed-record kernel's (0008, 0013), below.
APPEND_ONLY = (
    "treatment_sessionnoteaddendum",
    "treatment_vitalsreading",
    "treatment_boosterdose",
    "treatment_chaperonecheckin",
    "treatment_sessionchange",
)
# Rows that belong to a session (column session_id) and freeze when its note is signed.
FROZEN_WITH_NOTE = (
    "treatment_dosingrecord",
    "treatment_integrationsummary",
    "treatment_vitalsreading",
    "treatment_boosterdose",
    "treatment_chaperonecheckin",
)

POSTGRES_FORWARD = [
    """
CREATE FUNCTION treatment_refuse_append_only_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION treatment_refuse_after_note_signed() RETURNS trigger AS $$
DECLARE
    target_session uuid;
BEGIN
    target_session := CASE WHEN TG_OP = 'DELETE' THEN OLD.session_id ELSE NEW.session_id END;
    IF EXISTS (SELECT 1 FROM treatment_sessionnote
               WHERE session_id = target_session AND status <> 'draft') THEN
        RAISE EXCEPTION 'the session''s note is signed, so % is locked (% refused): add a signed addendum',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION treatment_refuse_append_only_change();"""
        for table in APPEND_ONLY
    ),
    *(
        f"""CREATE TRIGGER {table}_frozen_with_note BEFORE INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION treatment_refuse_after_note_signed();"""
        for table in FROZEN_WITH_NOTE
    ),
]
POSTGRES_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in APPEND_ONLY),
    *(f"DROP TRIGGER IF EXISTS {table}_frozen_with_note ON {table};" for table in FROZEN_WITH_NOTE),
    "DROP FUNCTION IF EXISTS treatment_refuse_append_only_change();",
    "DROP FUNCTION IF EXISTS treatment_refuse_after_note_signed();",
]

SIGNED_NOTE_OF = (
    "EXISTS (SELECT 1 FROM treatment_sessionnote WHERE session_id = {row}.session_id AND status <> 'draft')"
)
SQLITE_FORWARD = [
    *(
        f"""CREATE TRIGGER {table}_refuse_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"""
        for table in APPEND_ONLY
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""CREATE TRIGGER {table}_frozen_{op.lower()} BEFORE {op} ON {table}
        WHEN {SIGNED_NOTE_OF.format(row="NEW" if op == "INSERT" else "OLD")}
        BEGIN SELECT RAISE(ABORT, 'the session''s note is signed, so {table} is locked'); END;"""
        for table in FROZEN_WITH_NOTE
        for op in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {table}_refuse_{op};" for table in APPEND_ONLY for op in ("update", "delete")),
    *(
        f"DROP TRIGGER IF EXISTS {table}_frozen_{op};"
        for table in FROZEN_WITH_NOTE
        for op in ("insert", "update", "delete")
    ),
]


def lock_session_documentation(apps, schema_editor):
    statements = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def unlock_session_documentation(apps, schema_editor):
    statements = {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    replaces = [
        ("treatment", "0001_add_course_policy_dose_plan_and_session"),
        ("treatment", "0002_lock_signed_dose_plans"),
        ("treatment", "0003_add_follow_up"),
        ("treatment", "0004_add_adverse_event"),
        ("treatment", "0005_add_session_records_and_notes"),
        ("treatment", "0006_lock_signed_session_documentation"),
        ("treatment", "0007_add_real_timeline_policy_and_late_entries"),
        ("treatment", "0008_sign_records_through_the_kernel"),
        ("treatment", "0009_add_visits_and_calendars"),
        ("treatment", "0010_indexes_for_planning"),
        ("treatment", "0011_add_prescriptions_and_controlled_substance_log"),
        ("treatment", "0012_stock_site_clinicians"),
        ("treatment", "0013_sign_integration_summaries_through_the_kernel"),
        ("treatment", "0014_visit_hours_messages"),
        ("treatment", "0015_add_dashboard_panel_indexes"),
    ]

    initial = True

    dependencies = [
        ("accounts", "0003_add_api_token_and_encrypt_mfa_secrets"),
        ("patients", "0014_add_dashboard_panel_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CarePolicy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "max_dosing_sessions_per_7_days",
                    models.PositiveSmallIntegerField(
                        default=2,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(7),
                        ],
                        verbose_name="most dosing sessions in any 7 days",
                    ),
                ),
                (
                    "first_follow_up_days",
                    models.PositiveSmallIntegerField(
                        default=30,
                        validators=[
                            django.core.validators.MinValueValidator(7),
                            django.core.validators.MaxValueValidator(120),
                        ],
                        verbose_name="first follow-up visit due (days after the evaluation)",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "medical_group",
                    models.OneToOneField(
                        limit_choices_to={"kind": "medical_group"},
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="care_policy",
                        to="accounts.organization",
                    ),
                ),
                (
                    "chaperone_check_in_minutes",
                    models.PositiveSmallIntegerField(
                        default=15,
                        validators=[
                            django.core.validators.MinValueValidator(5),
                            django.core.validators.MaxValueValidator(60),
                        ],
                        verbose_name="chaperone check-in every (minutes, remote dosing)",
                    ),
                ),
                (
                    "diastolic_max",
                    models.PositiveSmallIntegerField(
                        default=90,
                        validators=[
                            django.core.validators.MinValueValidator(60),
                            django.core.validators.MaxValueValidator(130),
                        ],
                        verbose_name="highest diastolic (mmHg)",
                    ),
                ),
                (
                    "pulse_max",
                    models.PositiveSmallIntegerField(
                        default=110,
                        validators=[
                            django.core.validators.MinValueValidator(80),
                            django.core.validators.MaxValueValidator(180),
                        ],
                        verbose_name="highest pulse (beats/min)",
                    ),
                ),
                (
                    "pulse_min",
                    models.PositiveSmallIntegerField(
                        default=50,
                        validators=[
                            django.core.validators.MinValueValidator(30),
                            django.core.validators.MaxValueValidator(80),
                        ],
                        verbose_name="lowest pulse (beats/min)",
                    ),
                ),
                (
                    "questionnaire_interval_days",
                    models.PositiveSmallIntegerField(
                        default=14,
                        validators=[
                            django.core.validators.MinValueValidator(7),
                            django.core.validators.MaxValueValidator(90),
                        ],
                        verbose_name="questionnaires due every (days, during an active course)",
                    ),
                ),
                (
                    "spo2_min",
                    models.PositiveSmallIntegerField(
                        default=94,
                        validators=[
                            django.core.validators.MinValueValidator(80),
                            django.core.validators.MaxValueValidator(100),
                        ],
                        verbose_name="lowest SpO2 (%)",
                    ),
                ),
                (
                    "systolic_max",
                    models.PositiveSmallIntegerField(
                        default=140,
                        validators=[
                            django.core.validators.MinValueValidator(100),
                            django.core.validators.MaxValueValidator(200),
                        ],
                        verbose_name="highest systolic (mmHg)",
                    ),
                ),
                (
                    "follow_up_grace_days",
                    models.PositiveSmallIntegerField(
                        default=7,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(60),
                        ],
                        verbose_name="days a follow-up may be overdue before it holds doses",
                    ),
                ),
                (
                    "max_doses_before_first_follow_up",
                    models.PositiveSmallIntegerField(
                        default=6,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(24),
                        ],
                        verbose_name="most doses a first dose plan authorizes before the first follow-up",
                    ),
                ),
                (
                    "min_hours_between_doses",
                    models.PositiveSmallIntegerField(
                        default=72,
                        validators=[
                            django.core.validators.MinValueValidator(24),
                            django.core.validators.MaxValueValidator(720),
                        ],
                        verbose_name="fewest hours between two doses",
                    ),
                ),
                (
                    "monitoring_minutes_intramuscular",
                    models.PositiveSmallIntegerField(
                        default=120,
                        validators=[
                            django.core.validators.MinValueValidator(30),
                            django.core.validators.MaxValueValidator(480),
                        ],
                        verbose_name="monitoring after an intramuscular dose (minutes)",
                    ),
                ),
                (
                    "monitoring_minutes_sublingual",
                    models.PositiveSmallIntegerField(
                        default=90,
                        validators=[
                            django.core.validators.MinValueValidator(30),
                            django.core.validators.MaxValueValidator(480),
                        ],
                        verbose_name="monitoring after a sublingual dose (minutes)",
                    ),
                ),
                (
                    "dosing_hours_end",
                    models.TimeField(
                        default=datetime.time(18, 0), verbose_name="dosing sessions end by (patient's local time)"
                    ),
                ),
                (
                    "dosing_hours_start",
                    models.TimeField(
                        default=datetime.time(8, 0), verbose_name="dosing sessions from (patient's local time)"
                    ),
                ),
                (
                    "visit_change_notice_hours",
                    models.PositiveSmallIntegerField(
                        default=24,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(168),
                        ],
                        verbose_name="a patient cancels or moves a visit up to (hours before)",
                    ),
                ),
                (
                    "pdmp_max_age_days",
                    models.PositiveSmallIntegerField(
                        default=7,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(90),
                        ],
                        verbose_name="PDMP check valid for (days)",
                    ),
                ),
                (
                    "peak_vitals_minutes_intramuscular",
                    models.PositiveSmallIntegerField(
                        default=40,
                        validators=[
                            django.core.validators.MinValueValidator(10),
                            django.core.validators.MaxValueValidator(120),
                        ],
                        verbose_name="vitals after an intramuscular dose at (minutes)",
                    ),
                ),
                (
                    "telemedicine_flexibility_until",
                    models.DateField(
                        default=datetime.date(2026, 12, 31), verbose_name="DEA telemedicine flexibilities end on"
                    ),
                ),
                (
                    "telemedicine_rule",
                    models.CharField(
                        choices=[
                            ("flexibility", "Allowed under the DEA telemedicine flexibilities, attested"),
                            ("in_person", "An in-person visit is required first"),
                        ],
                        default="flexibility",
                        max_length=20,
                        verbose_name="controlled substances after a telemedicine evaluation",
                    ),
                ),
            ],
            options={
                "verbose_name": "care policy",
                "verbose_name_plural": "care policies",
            },
        ),
        migrations.CreateModel(
            name="DosePlan",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("version", models.PositiveSmallIntegerField()),
                ("medication", models.CharField(choices=[("ketamine", "Ketamine")], default="ketamine", max_length=20)),
                (
                    "route",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("sublingual_rdt", "Sublingual rapid-dissolve tablet"),
                            ("troche", "Troche (lozenge)"),
                            ("intramuscular", "Intramuscular injection"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "tablet_strength_mg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        help_text="For tablets and troches.",
                        max_digits=5,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("1")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="tablet strength (mg)",
                    ),
                ),
                (
                    "full_dose_mg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        max_digits=5,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("1")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="full dose (mg)",
                    ),
                ),
                (
                    "start_at",
                    models.CharField(
                        blank=True, choices=[("half", "Start at half the dose"), ("full", "Full dose")], max_length=4
                    ),
                ),
                ("boosters_allowed", models.BooleanField(default=False)),
                (
                    "booster_count",
                    models.PositiveSmallIntegerField(
                        default=0,
                        validators=[django.core.validators.MaxValueValidator(4)],
                        verbose_name="boosters allowed per session",
                    ),
                ),
                (
                    "booster_mg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        max_digits=5,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("1")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="booster size (mg)",
                    ),
                ),
                (
                    "booster_min_minutes",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(5),
                            django.core.validators.MaxValueValidator(240),
                        ],
                        verbose_name="booster no sooner than (minutes after the first dose)",
                    ),
                ),
                (
                    "doses_authorized",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(24),
                        ],
                        verbose_name="dosing sessions authorized in the course",
                    ),
                ),
                (
                    "instructions_patient",
                    models.TextField(blank=True, max_length=5000, verbose_name="instructions to the patient"),
                ),
                (
                    "instructions_therapist",
                    models.TextField(blank=True, max_length=5000, verbose_name="instructions to the therapist"),
                ),
                (
                    "benzodiazepine_hold",
                    models.TextField(blank=True, max_length=2000, verbose_name="benzodiazepine hold instructions"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("signed", "Signed (active)"), ("superseded", "Superseded")],
                        default="draft",
                        max_length=10,
                    ),
                ),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                ("superseded_at", models.DateTimeField(blank=True, null=True)),
                (
                    "content_hash",
                    models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the signed content"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="dose_plans", to="patients.patient"
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dose_plans",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-version"],
            },
        ),
        migrations.CreateModel(
            name="TreatmentCourse",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("started_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="courses", to="patients.patient"
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("ended_at__isnull", True)),
                        fields=("patient",),
                        name="course_one_open_per_patient",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="TherapySession",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("preparation", "Preparation"), ("dosing", "Dosing"), ("integration", "Integration")],
                        max_length=12,
                    ),
                ),
                ("scheduled_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("scheduled", "Scheduled"),
                            ("completed", "Completed"),
                            ("cancelled", "Cancelled"),
                            ("no_show", "No-show"),
                        ],
                        default="scheduled",
                        max_length=10,
                    ),
                ),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "completed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "dose_plan",
                    models.ForeignKey(
                        blank=True,
                        help_text="For a dosing session: the plan in force when it was scheduled.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sessions",
                        to="treatment.doseplan",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="therapy_sessions",
                        to="patients.patient",
                    ),
                ),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sessions",
                        to="treatment.treatmentcourse",
                    ),
                ),
                ("chaperone_email", models.EmailField(blank=True, max_length=254)),
                ("chaperone_name", models.CharField(blank=True, max_length=200)),
                ("chaperone_phone", models.CharField(blank=True, max_length=30)),
                (
                    "duration_minutes",
                    models.PositiveSmallIntegerField(
                        default=60,
                        validators=[
                            django.core.validators.MinValueValidator(15),
                            django.core.validators.MaxValueValidator(480),
                        ],
                        verbose_name="duration (minutes)",
                    ),
                ),
                (
                    "location",
                    models.CharField(
                        blank=True, help_text="The room or address.", max_length=300, verbose_name="location"
                    ),
                ),
                (
                    "modality",
                    models.CharField(
                        choices=[("in_person", "In person"), ("remote", "Remote (video)")],
                        default="in_person",
                        max_length=10,
                    ),
                ),
                ("status_changed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "status_changed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "status_reason",
                    models.TextField(
                        blank=True,
                        help_text="Why it was cancelled, or what is known of a no-show.",
                        max_length=2000,
                        verbose_name="reason",
                    ),
                ),
                (
                    "therapist",
                    models.ForeignKey(
                        blank=True,
                        help_text="The therapist who runs the session.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("video_link", models.URLField(blank=True, max_length=500, verbose_name="video link")),
                ("late_entry", models.BooleanField(default=False, verbose_name="late entry")),
                (
                    "late_entry_reason",
                    models.TextField(blank=True, max_length=2000, verbose_name="why it is entered late"),
                ),
            ],
            options={
                "ordering": ["scheduled_at", "id"],
                "indexes": [
                    models.Index(fields=["patient", "kind", "scheduled_at"], name="session_patient_kind_time"),
                    models.Index(fields=["status", "scheduled_at"], name="session_status_time"),
                    models.Index(fields=["kind", "status", "scheduled_at"], name="session_kind_status_time"),
                    models.Index(fields=["status", "scheduled_at", "id"], name="session_status_time_id"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "completed"), _negated=True),
                            ("completed_at__isnull", False),
                            _connector="OR",
                        ),
                        name="session_completed_has_time",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="FollowUp",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("due_on", models.DateField(verbose_name="due on")),
                ("symptoms", models.TextField(blank=True, max_length=5000, verbose_name="symptoms and progress")),
                (
                    "sessions_review",
                    models.TextField(
                        blank=True, max_length=5000, verbose_name="dosing sessions and their documentation"
                    ),
                ),
                ("side_effects", models.TextField(blank=True, max_length=5000, verbose_name="side effects")),
                ("therapist_note", models.TextField(blank=True, max_length=2000, verbose_name="to the therapist")),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("continue", "Continue the current plan"),
                            ("adjust_dose", "Adjust the dose (new dose plan version)"),
                            ("more_doses", "Authorize more doses"),
                            ("maintenance", "Move to maintenance"),
                            ("complete", "Discharge: course completed"),
                            ("discontinue", "Discharge: discontinue treatment"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "additional_doses",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(12),
                        ],
                        verbose_name="more dosing sessions authorized",
                    ),
                ),
                ("next_follow_up_on", models.DateField(blank=True, null=True, verbose_name="next follow-up due on")),
                ("rationale", models.TextField(blank=True, max_length=5000, verbose_name="decision and rationale")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("signed", "Signed")], default="draft", max_length=10
                    ),
                ),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "content_hash",
                    models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the signed content"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="follow_ups",
                        to="treatment.treatmentcourse",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="follow_ups", to="patients.patient"
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        blank=True,
                        help_text="Who wrote the note; the signing prescriber once signed.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="follow_ups",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-due_on", "-id"],
                "indexes": [models.Index(fields=["status", "due_on"], name="follow_up_status_due")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "draft")), fields=("course",), name="follow_up_one_pending"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status", "draft"),
                            models.Q(
                                ("signed_at__isnull", False),
                                models.Q(("content_hash", ""), _negated=True),
                                ("prescriber__isnull", False),
                                models.Q(("decision", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="follow_up_signed_complete",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status", "draft"),
                            models.Q(
                                ("signed_at__isnull", False),
                                models.Q(("content_hash", ""), _negated=True),
                                ("signed_by__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="treatment_followup_signed_complete",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="AdverseEvent",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("nausea", "Nausea"),
                            ("vomiting", "Vomiting"),
                            ("blood_pressure_rise", "Blood-pressure rise"),
                            ("dizziness", "Dizziness"),
                            ("distressing_dissociation", "Distressing dissociation"),
                            ("bladder_symptoms", "Bladder or urinary symptoms"),
                            ("other", "Other"),
                        ],
                        max_length=30,
                    ),
                ),
                ("description", models.TextField(blank=True, help_text="What happened; required for “other”.")),
                (
                    "severity",
                    models.CharField(
                        choices=[("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")], max_length=10
                    ),
                ),
                (
                    "onset_minutes",
                    models.PositiveIntegerField(
                        blank=True,
                        null=True,
                        validators=[django.core.validators.MaxValueValidator(20160)],
                        verbose_name="onset (minutes after the dose)",
                    ),
                ),
                (
                    "action_taken",
                    models.CharField(
                        choices=[
                            ("none", "None needed"),
                            ("medication_given", "Medication given"),
                            ("session_stopped", "Session stopped"),
                            ("emergency_services", "Emergency services called"),
                            ("other", "Other"),
                        ],
                        default="none",
                        max_length=20,
                    ),
                ),
                ("action_details", models.TextField(blank=True, help_text="Which medication, or what else was done.")),
                (
                    "who_was_told",
                    models.CharField(blank=True, help_text="E.g. the prescriber, the on-call line.", max_length=200),
                ),
                ("reported_at", models.DateTimeField(auto_now_add=True)),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="adverse_events",
                        to="treatment.treatmentcourse",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="adverse_events",
                        to="patients.patient",
                    ),
                ),
                (
                    "reported_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        blank=True,
                        help_text="The session it happened in or after, when known.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="adverse_events",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["-reported_at", "-id"],
                "indexes": [
                    models.Index(fields=["patient", "-reported_at"], name="adverse_event_patient_time"),
                    models.Index(fields=["reported_at", "id"], name="adverse_event_reported_at"),
                ],
            },
        ),
        migrations.CreateModel(
            name="BoosterDose",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "dose_mg",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=5,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("1")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="booster (mg)",
                    ),
                ),
                ("taken_at", models.DateTimeField()),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="boosters",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["taken_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ChaperoneCheckIn",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("checked_at", models.DateTimeField()),
                ("patient_ok", models.BooleanField(default=True, verbose_name="patient is safe and comfortable")),
                ("remark", models.CharField(blank=True, max_length=300)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="check_ins",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["checked_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ChecklistConfirmation",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "item",
                    models.CharField(
                        choices=[
                            (
                                "fasting",
                                "I will not eat for 4 hours before the session (clear fluids until 2 hours before).",
                            ),
                            ("ride_home", "I have a ride home and will not drive until the next day."),
                            ("chaperone", "My chaperone will be with me for the whole session (remote sessions)."),
                            ("benzodiazepine_hold", "I have held my benzodiazepine as the prescriber asked."),
                        ],
                        max_length=24,
                    ),
                ),
                ("confirmed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="checklist",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["item"],
                "constraints": [models.UniqueConstraint(fields=("session", "item"), name="checklist_item_once")],
            },
        ),
        migrations.CreateModel(
            name="DosingRecord",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "dose_mg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        max_digits=5,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("1")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="dose taken (mg)",
                    ),
                ),
                ("dose_taken_at", models.DateTimeField(blank=True, null=True)),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="session ended at")),
                ("alert_and_oriented", models.BooleanField(default=False, verbose_name="alert and oriented")),
                ("vitals_near_baseline", models.BooleanField(default=False, verbose_name="vitals back near baseline")),
                (
                    "safe_transport",
                    models.BooleanField(
                        default=False, verbose_name="leaving with safe transport (or staying home with the chaperone)"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "dose_recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "end_recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dosing_record",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("dose_mg__isnull", True), ("dose_taken_at__isnull", True)),
                            models.Q(("dose_mg__isnull", False), ("dose_taken_at__isnull", False)),
                            _connector="OR",
                        ),
                        name="dosing_record_dose_has_time",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="IntegrationSummary",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("themes", models.TextField(blank=True, max_length=5000, verbose_name="themes")),
                ("insights", models.TextField(blank=True, max_length=5000, verbose_name="insights")),
                (
                    "changes",
                    models.TextField(blank=True, max_length=5000, verbose_name="changes the patient is working on"),
                ),
                (
                    "concerns_for_prescriber",
                    models.TextField(blank=True, max_length=5000, verbose_name="concerns for the prescriber"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="integration_summaries",
                        to="patients.patient",
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="integration_summary",
                        to="treatment.therapysession",
                    ),
                ),
                (
                    "content_hash",
                    models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the signed content"),
                ),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("signed", "Signed")], default="draft", max_length=10
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "integration summaries",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status", "draft"),
                            models.Q(
                                ("signed_at__isnull", False),
                                models.Q(("content_hash", ""), _negated=True),
                                ("signed_by__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="treatment_integrationsummary_signed_complete",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PsychotherapyNote",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("body", models.TextField(max_length=20000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="treatment.therapysession"
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("session", "author"), name="psychotherapy_note_one_per_author")
                ],
            },
        ),
        migrations.CreateModel(
            name="SessionChange",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("rescheduled", "Rescheduled"), ("cancelled", "Cancelled"), ("no_show", "No-show")],
                        max_length=12,
                    ),
                ),
                ("previous_scheduled_at", models.DateTimeField()),
                ("new_scheduled_at", models.DateTimeField(blank=True, null=True)),
                ("reason", models.TextField(max_length=2000)),
                ("changed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "changed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="changes",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["changed_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="SessionNote",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("body", models.TextField(blank=True, max_length=20000, verbose_name="progress note")),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("signed", "Signed")], default="draft", max_length=10
                    ),
                ),
                ("signed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "content_hash",
                    models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the signed content"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="session_notes", to="patients.patient"
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="note", to="treatment.therapysession"
                    ),
                ),
                (
                    "signed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["status", "created_at"], name="session_note_status_created")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status", "draft"),
                            models.Q(
                                ("signed_at__isnull", False),
                                models.Q(("content_hash", ""), _negated=True),
                                ("signed_by__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="treatment_sessionnote_signed_complete",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SessionNoteAddendum",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("body", models.TextField(max_length=10000)),
                ("signed_at", models.DateTimeField()),
                ("content_hash", models.CharField(max_length=64)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "note",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="addenda", to="treatment.sessionnote"
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "session note addenda",
                "ordering": ["signed_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="VitalsReading",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "phase",
                    models.CharField(
                        choices=[
                            ("pre_dose", "Before the dose"),
                            ("peak", "About 40 minutes after the dose"),
                            ("booster", "Before a booster"),
                            ("end", "End of session"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "systolic",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(50),
                            django.core.validators.MaxValueValidator(300),
                        ]
                    ),
                ),
                (
                    "diastolic",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(20),
                            django.core.validators.MaxValueValidator(200),
                        ]
                    ),
                ),
                (
                    "pulse",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(20),
                            django.core.validators.MaxValueValidator(250),
                        ]
                    ),
                ),
                (
                    "spo2",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(50),
                            django.core.validators.MaxValueValidator(100),
                        ],
                        verbose_name="SpO2 (%)",
                    ),
                ),
                ("taken_at", models.DateTimeField()),
                (
                    "taken_by",
                    models.CharField(
                        choices=[
                            ("patient", "The patient"),
                            ("chaperone", "The chaperone"),
                            ("therapist", "The therapist"),
                            ("nurse", "A nurse"),
                        ],
                        max_length=10,
                    ),
                ),
                ("in_range", models.BooleanField()),
                (
                    "out_of_range",
                    models.CharField(
                        blank=True, help_text="Which values were outside the thresholds, in words.", max_length=200
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="vitals",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["taken_at", "recorded_at", "id"],
                "indexes": [models.Index(fields=["session", "phase", "taken_at"], name="vitals_session_phase_time")],
            },
        ),
        migrations.CreateModel(
            name="CalendarFeed",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now=True)),
                (
                    "owner",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="calendar_feed",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Schedule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "time_zone",
                    models.CharField(
                        default="America/Los_Angeles", max_length=64, validators=[patients.models.validate_time_zone]
                    ),
                ),
                (
                    "evaluation_minutes",
                    models.PositiveSmallIntegerField(default=60, verbose_name="evaluation visit (minutes)"),
                ),
                (
                    "follow_up_minutes",
                    models.PositiveSmallIntegerField(default=30, verbose_name="follow-up visit (minutes)"),
                ),
                ("location", models.CharField(blank=True, max_length=300, verbose_name="office address")),
                ("video_link", models.URLField(blank=True, max_length=500, verbose_name="video room link")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "clinician",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="schedule",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="DateHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("on", models.DateField()),
                ("start_time", models.TimeField(blank=True, null=True)),
                ("end_time", models.TimeField(blank=True, null=True)),
                ("note", models.CharField(blank=True, max_length=200)),
                (
                    "schedule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="date_hours", to="treatment.schedule"
                    ),
                ),
            ],
            options={
                "ordering": ["on", "start_time"],
            },
        ),
        migrations.CreateModel(
            name="SessionHoursException",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("outside", models.CharField(max_length=300, verbose_name="outside what")),
                ("reason", models.TextField(max_length=2000)),
                ("recorded_at", models.DateTimeField(auto_now=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="hours_exception",
                        to="treatment.therapysession",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="TimeOff",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                ("note", models.CharField(blank=True, max_length=200)),
                (
                    "schedule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="time_off", to="treatment.schedule"
                    ),
                ),
            ],
            options={
                "ordering": ["starts_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                        name="time_off_in_order",
                        violation_error_message="Time off must end after it starts.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Visit",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(choices=[("evaluation", "Evaluation"), ("follow_up", "Follow-up")], max_length=12),
                ),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField()),
                (
                    "encounter",
                    models.CharField(
                        choices=[("in_person", "In person"), ("video", "Video")], default="video", max_length=10
                    ),
                ),
                ("video_link", models.URLField(blank=True, max_length=500)),
                ("location", models.CharField(blank=True, max_length=300)),
                (
                    "patient_state",
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
                        help_text="For licensure.",
                        max_length=2,
                        verbose_name="the patient's state at the visit",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("booked", "Booked"), ("cancelled", "Cancelled")], default="booked", max_length=10
                    ),
                ),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                ("cancel_reason", models.TextField(blank=True, max_length=2000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "booked_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "follow_up",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visits",
                        to="treatment.followup",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="visits", to="patients.patient"
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="visits", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["starts_at", "id"],
                "indexes": [models.Index(fields=["prescriber", "starts_at"], name="visit_prescriber_start")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "booked")),
                        fields=("prescriber", "starts_at"),
                        name="visit_one_booking_per_start",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("status", "booked")),
                        fields=("follow_up",),
                        name="visit_one_booking_per_follow_up",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "evaluation"), ("status", "booked")),
                        fields=("patient",),
                        name="visit_one_booked_evaluation",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))), name="visit_in_order"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="WeeklyHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "weekday",
                    models.PositiveSmallIntegerField(
                        choices=[
                            (0, "Monday"),
                            (1, "Tuesday"),
                            (2, "Wednesday"),
                            (3, "Thursday"),
                            (4, "Friday"),
                            (5, "Saturday"),
                            (6, "Sunday"),
                        ]
                    ),
                ),
                ("start_time", models.TimeField()),
                ("end_time", models.TimeField()),
                (
                    "schedule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="weekly_hours",
                        to="treatment.schedule",
                    ),
                ),
            ],
            options={
                "ordering": ["weekday", "start_time"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("end_time__gt", models.F("start_time"))),
                        name="hours_in_order",
                        violation_error_message="The end time must be after the start time.",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MedicineCount",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "source",
                    models.CharField(
                        choices=[("patient", "Reported by the patient"), ("clinician", "Counted at a dosing session")],
                        max_length=10,
                    ),
                ),
                (
                    "remaining",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=6,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                    ),
                ),
                ("expected", models.DecimalField(decimal_places=1, max_digits=6)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="medicine_counts",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="treatment.therapysession",
                    ),
                ),
            ],
            options={
                "ordering": ["-recorded_at"],
            },
        ),
        migrations.CreateModel(
            name="PDMPCheck",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("checked_on", models.DateField(verbose_name="checked on")),
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
                    ),
                ),
                (
                    "result",
                    models.CharField(
                        choices=[("no_concerns", "No concerns found"), ("concerns", "Concerns found (see the note)")],
                        max_length=12,
                    ),
                ),
                ("note", models.TextField(blank=True, max_length=2000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="pdmp_checks", to="patients.patient"
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pdmp_checks",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "PDMP check",
                "ordering": ["-checked_on", "-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Prescription",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("medication", models.CharField(default="ketamine", max_length=20)),
                (
                    "formulation",
                    models.CharField(
                        choices=[
                            ("sublingual_rdt", "Sublingual rapid-dissolve tablet"),
                            ("troche", "Troche (lozenge)"),
                            ("im_solution", "Intramuscular solution"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "strength_mg",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=6,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("1")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="strength (mg per tablet, or mg per mL)",
                    ),
                ),
                ("directions", models.TextField(max_length=2000)),
                (
                    "quantity",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=6,
                        validators=[django.core.validators.MinValueValidator(Decimal("0.1"))],
                        verbose_name="quantity (tablets, or mL)",
                    ),
                ),
                (
                    "quantity_derived",
                    models.DecimalField(decimal_places=1, max_digits=6, verbose_name="quantity the dose plan needs"),
                ),
                (
                    "quantity_reason",
                    models.TextField(
                        blank=True, max_length=2000, verbose_name="why the quantity differs from the plan's"
                    ),
                ),
                (
                    "refills",
                    models.PositiveSmallIntegerField(
                        default=0, validators=[django.core.validators.MaxValueValidator(5)]
                    ),
                ),
                (
                    "days_supply",
                    models.PositiveSmallIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(180),
                        ],
                        verbose_name="days' supply",
                    ),
                ),
                ("pharmacy_name", models.CharField(max_length=200)),
                ("pharmacy_address", models.CharField(max_length=300)),
                ("pharmacy_phone", models.CharField(max_length=30)),
                (
                    "pharmacy_ncpdp_id",
                    models.CharField(
                        max_length=7,
                        validators=[django.core.validators.RegexValidator("^\\d{7}$", "An NCPDP id is 7 digits.")],
                        verbose_name="pharmacy NCPDP id",
                    ),
                ),
                ("issued_on", models.DateField()),
                (
                    "channel",
                    models.CharField(
                        choices=[("printed", "Printed"), ("faxed", "Faxed"), ("electronic", "Electronic (EPCS)")],
                        max_length=12,
                        verbose_name="transmission channel",
                    ),
                ),
                (
                    "evaluation_encounter",
                    models.CharField(
                        choices=[
                            ("in_person", "In person"),
                            ("telemedicine", "Telemedicine (real-time audio-video)"),
                            ("not_recorded", "Not recorded"),
                        ],
                        max_length=14,
                    ),
                ),
                ("last_in_person_on", models.DateField(blank=True, null=True, verbose_name="last in-person visit")),
                (
                    "telemedicine_attested",
                    models.BooleanField(default=False, verbose_name="telemedicine rule attested"),
                ),
                (
                    "refills_left_reason",
                    models.TextField(
                        blank=True,
                        max_length=2000,
                        verbose_name="why a new prescription while an earlier one has refills left",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("issued", "Issued"), ("cancelled", "Cancelled")], default="issued", max_length=10
                    ),
                ),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                ("cancel_reason", models.TextField(blank=True, max_length=2000)),
                ("content_hash", models.CharField(max_length=64, verbose_name="SHA-256 of the prescription")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="prescriptions",
                        to="treatment.treatmentcourse",
                    ),
                ),
                (
                    "dea_registration",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="prescriptions",
                        to="accounts.dearegistration",
                    ),
                ),
                (
                    "dose_plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="prescriptions",
                        to="treatment.doseplan",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="prescriptions", to="patients.patient"
                    ),
                ),
                (
                    "pdmp_check",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="prescriptions",
                        to="treatment.pdmpcheck",
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="prescriptions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-issued_on", "-created_at"],
                "indexes": [models.Index(fields=["patient", "status"], name="prescription_patient_status")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("refills__lte", 5)), name="prescription_schedule_iii_refills"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status", "issued"), models.Q(("cancel_reason", ""), _negated=True), _connector="OR"
                        ),
                        name="prescription_cancel_has_reason",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="PharmacyNotice",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(choices=[("new", "New prescription"), ("cancel", "Cancellation")], max_length=10),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("printed", "Printed"), ("faxed", "Faxed"), ("electronic", "Electronic (EPCS)")],
                        max_length=12,
                    ),
                ),
                ("reason", models.TextField(blank=True, max_length=2000)),
                ("sent_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "sent_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "prescription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pharmacy_notices",
                        to="treatment.prescription",
                    ),
                ),
            ],
            options={
                "ordering": ["sent_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="PrescriptionFill",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("number", models.PositiveSmallIntegerField(verbose_name="fill number (0: the first fill)")),
                ("filled_on", models.DateField()),
                (
                    "method",
                    models.CharField(
                        choices=[("pickup", "Picked up at the pharmacy"), ("delivery", "Delivered")], max_length=10
                    ),
                ),
                (
                    "quantity",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=6,
                        validators=[django.core.validators.MinValueValidator(Decimal("0.1"))],
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "prescription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="fills", to="treatment.prescription"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["number"],
                "constraints": [
                    models.UniqueConstraint(fields=("prescription", "number"), name="prescription_fill_once"),
                    models.CheckConstraint(
                        condition=models.Q(("number__lte", 5)), name="prescription_fill_refill_limit"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="StockSite",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("address", models.CharField(max_length=300)),
                (
                    "medical_group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stock_sites",
                        to="accounts.organization",
                    ),
                ),
                (
                    "clinicians",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Besides the medical group's prescribers, who keep every site's log.",
                        related_name="stock_sites",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="clinicians working at the site",
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="StockEntry",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("receipt", "Receipt"),
                            ("administration", "Administration"),
                            ("waste", "Waste (witnessed)"),
                            ("count", "Count"),
                        ],
                        max_length=14,
                    ),
                ),
                ("lot", models.CharField(max_length=50)),
                ("expires_on", models.DateField(blank=True, help_text="For a receipt: the lot's expiry.", null=True)),
                (
                    "quantity_mg",
                    models.DecimalField(
                        decimal_places=1,
                        max_digits=8,
                        validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                        verbose_name="quantity (mg): received, given, wasted, or counted",
                    ),
                ),
                (
                    "expected_mg",
                    models.DecimalField(
                        blank=True,
                        decimal_places=1,
                        max_digits=8,
                        null=True,
                        verbose_name="balance expected at a count (mg)",
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=300)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="stock_entries",
                        to="treatment.therapysession",
                    ),
                ),
                (
                    "witness",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="entries", to="treatment.stocksite"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "stock entries",
                "ordering": ["recorded_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "administration"), _negated=True),
                            ("session__isnull", False),
                            _connector="OR",
                        ),
                        name="stock_administration_session",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "waste"), _negated=True),
                            models.Q(
                                ("witness__isnull", False),
                                models.Q(("witness", models.F("recorded_by")), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="stock_waste_witnessed",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="IntegrationSummaryAddendum",
            fields=[
                ("signed_at", models.DateTimeField()),
                ("content_hash", models.CharField(max_length=64)),
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("body", models.TextField(max_length=10000)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "summary",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="addenda",
                        to="treatment.integrationsummary",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "integration summary addenda",
                "ordering": ["signed_at", "id"],
            },
        ),
        migrations.AddField(
            model_name="doseplan",
            name="course",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="dose_plans", to="treatment.treatmentcourse"
            ),
        ),
        migrations.AddField(
            model_name="doseplan",
            name="signed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="doseplan",
            constraint=models.UniqueConstraint(fields=("course", "version"), name="dose_plan_version_unique"),
        ),
        migrations.AddConstraint(
            model_name="doseplan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "draft")), fields=("course",), name="dose_plan_one_draft"
            ),
        ),
        migrations.AddConstraint(
            model_name="doseplan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "signed")), fields=("course",), name="dose_plan_one_active"
            ),
        ),
        migrations.AddConstraint(
            model_name="doseplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "draft"),
                    models.Q(
                        ("signed_at__isnull", False),
                        models.Q(("content_hash", ""), _negated=True),
                        ("signed_by__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="treatment_doseplan_signed_complete",
            ),
        ),
        migrations.RunPython(lock_session_documentation, unlock_session_documentation),
        kapcare.signing.operations.SignedRecordTriggers(
            model_name="doseplan", transition=["signed", "superseded", ["superseded_at", "updated_at"]]
        ),
        kapcare.signing.operations.SignedRecordTriggers(model_name="followup"),
        kapcare.signing.operations.SignedRecordTriggers(model_name="sessionnote"),
        kapcare.signing.operations.SignedRecordTriggers(model_name="integrationsummary"),
        kapcare.signing.operations.AddendumTriggers(model_name="integrationsummaryaddendum"),
    ]

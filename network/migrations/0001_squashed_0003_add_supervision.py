"""network 0001-0003 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import uuid
from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import network.training.models
import network.training.storage
import patients.models


class Migration(migrations.Migration):
    replaces = [("network", "0001_initial"), ("network", "0002_add_joining"), ("network", "0003_add_supervision")]

    initial = True

    dependencies = [
        ("accounts", "0005_clinician_approval"),
        ("patients", "0013_assignment_need"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Course",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200)),
                ("provider", models.CharField(max_length=200)),
                (
                    "accrediting_body",
                    models.CharField(blank=True, help_text="Who accredits its CE hours.", max_length=200),
                ),
                (
                    "ce_hours",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=5,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(200),
                        ],
                        verbose_name="CE hours",
                    ),
                ),
                (
                    "required_for",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Elective"),
                            ("therapist", "Therapists"),
                            ("prescriber", "Prescribers"),
                            ("clinician", "Therapists and prescribers"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "is_kap_training",
                    models.BooleanField(
                        default=False,
                        help_text="Completing it lets a clinician practise.",
                        verbose_name="counts as the network's KAP training",
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["title"],
            },
        ),
        migrations.CreateModel(
            name="ConsultationGroup",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=200)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "facilitator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "medical_group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.organization"
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="GroupMembership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("joined_at", models.DateTimeField(auto_now_add=True)),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="network.consultationgroup",
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("group", "clinician"), name="group_membership_once")],
            },
        ),
        migrations.CreateModel(
            name="Meeting",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("starts_at", models.DateTimeField()),
                ("time_zone", models.CharField(max_length=64, validators=[patients.models.validate_time_zone])),
                (
                    "duration_minutes",
                    models.PositiveSmallIntegerField(
                        default=60,
                        validators=[
                            django.core.validators.MinValueValidator(15),
                            django.core.validators.MaxValueValidator(480),
                        ],
                    ),
                ),
                ("video_link", models.URLField(max_length=500)),
                (
                    "ce_hours",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=4,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(8),
                        ],
                        verbose_name="CE hours",
                    ),
                ),
                (
                    "series",
                    models.UUIDField(
                        default=uuid.uuid4, help_text="Meetings scheduled together as one recurring series."
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="meetings",
                        to="network.consultationgroup",
                    ),
                ),
            ],
            options={
                "ordering": ["starts_at"],
                "indexes": [models.Index(fields=["group", "starts_at"], name="meeting_group_start")],
            },
        ),
        migrations.CreateModel(
            name="Attendance",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "meeting",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="attendance", to="network.meeting"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("meeting", "clinician"), name="attendance_once")],
            },
        ),
        migrations.CreateModel(
            name="Presentation",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("title", models.CharField(max_length=200)),
                ("summary", models.TextField(max_length=5000)),
                ("age_band", models.CharField(max_length=20)),
                ("scores", models.JSONField(blank=True, default=list)),
                ("dose_plan", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "group",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="presentations",
                        to="network.consultationgroup",
                    ),
                ),
                (
                    "meeting",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="presentations",
                        to="network.meeting",
                    ),
                ),
                (
                    "presenter",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Enrolment",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("enrolled_at", models.DateTimeField(auto_now_add=True)),
                ("completed_on", models.DateField(blank=True, null=True)),
                ("certificate_number", models.CharField(blank=True, max_length=100)),
                (
                    "certificate",
                    models.FileField(
                        blank=True,
                        max_length=200,
                        storage=network.training.storage.private_storage,
                        upload_to=network.training.models.certificate_path,
                    ),
                ),
                (
                    "certificate_type",
                    models.CharField(blank=True, help_text="The MIME type found in the file.", max_length=40),
                ),
                ("verified_at", models.DateTimeField(blank=True, null=True)),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="enrolments",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "course",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="enrolments", to="network.course"
                    ),
                ),
                (
                    "verified_by",
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
                "ordering": ["-enrolled_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("course", "clinician"), name="enrolment_once_per_course"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("verified_at__isnull", True), ("completed_on__isnull", False), _connector="OR"
                        ),
                        name="enrolment_verified_only_when_completed",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Application",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "role",
                    models.CharField(choices=[("therapist", "Therapist"), ("prescriber", "Prescriber")], max_length=20),
                ),
                ("first_name", models.CharField(max_length=100)),
                ("last_name", models.CharField(max_length=100)),
                ("email", models.EmailField(max_length=254, verbose_name="e-mail address")),
                ("npi", models.CharField(blank=True, max_length=10, verbose_name="NPI")),
                ("malpractice_carrier", models.CharField(blank=True, max_length=200)),
                ("malpractice_policy_number", models.CharField(blank=True, max_length=100)),
                ("malpractice_expires_on", models.DateField(blank=True, null=True)),
                (
                    "training_provider",
                    models.CharField(blank=True, max_length=200, verbose_name="KAP training provider"),
                ),
                ("training_title", models.CharField(blank=True, max_length=200, verbose_name="KAP training course")),
                (
                    "training_completed_on",
                    models.DateField(blank=True, null=True, verbose_name="KAP training completed on"),
                ),
                ("training_certificate_number", models.CharField(blank=True, max_length=100)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("invited", "Invited, not yet submitted"),
                            ("submitted", "Submitted: to verify"),
                            ("corrections", "Corrections asked"),
                            ("approved", "Approved"),
                            ("declined", "Declined"),
                        ],
                        default="submitted",
                        max_length=20,
                    ),
                ),
                ("link_hash", models.CharField(blank=True, db_index=True, max_length=64)),
                ("link_expires_at", models.DateTimeField(blank=True, null=True)),
                ("corrections", models.TextField(blank=True, max_length=2000, verbose_name="corrections asked")),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("decision_note", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "account",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="network_application",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "invited_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "medical_group",
                    models.ForeignKey(
                        limit_choices_to={"kind": "medical_group"},
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
                (
                    "practice",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["medical_group", "status"], name="application_queue")],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("email"),
                        condition=models.Q(("status__in", ["approved", "declined"]), _negated=True),
                        name="application_open_once_per_email",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ApplicationDEARegistration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                ("expires_on", models.DateField()),
                ("number", models.CharField(max_length=9, verbose_name="DEA number")),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="dea_registrations",
                        to="network.application",
                    ),
                ),
            ],
            options={
                "verbose_name": "application DEA registration",
                "ordering": ["state", "id"],
            },
        ),
        migrations.CreateModel(
            name="ApplicationLicence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
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
                ("expires_on", models.DateField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("md", "Physician (MD)"),
                            ("do", "Physician (DO)"),
                            ("np", "Nurse practitioner"),
                            ("pa", "Physician assistant"),
                            ("psychologist", "Psychologist"),
                            ("lmft", "Marriage and family therapist (LMFT)"),
                            ("lcsw", "Clinical social worker (LCSW)"),
                            ("lpc", "Professional counselor (LPC)"),
                            ("other", "Other"),
                        ],
                        max_length=20,
                        verbose_name="type",
                    ),
                ),
                ("number", models.CharField(max_length=50)),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="licences", to="network.application"
                    ),
                ),
            ],
            options={
                "ordering": ["state", "id"],
            },
        ),
        migrations.CreateModel(
            name="CredentialCheck",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("item", models.CharField(max_length=60)),
                ("value", models.CharField(help_text="The credential as it stood when checked.", max_length=400)),
                (
                    "outcome",
                    models.CharField(choices=[("verified", "Verified"), ("problem", "Does not match")], max_length=10),
                ),
                (
                    "source",
                    models.CharField(
                        help_text="What it was checked against: a registry lookup, a document (and its reference).",
                        max_length=500,
                    ),
                ),
                ("checked_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="checks", to="network.application"
                    ),
                ),
                (
                    "checked_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["checked_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("source", ""), _negated=True), name="credential_check_has_source"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SupervisionCase",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("evaluation", "Evaluation"), ("dose_plan", "Dose plan"), ("follow_up", "Follow-up")],
                        max_length=12,
                    ),
                ),
                ("record_id", models.UUIDField()),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Not picked"),
                            ("first_patients", "One of the prescriber's first patients"),
                            ("sampled", "Sampled"),
                            ("mg_per_kg", "Dose above the mg/kg threshold"),
                            ("dose_increase", "Dose increase above the policy's percentage"),
                            ("adverse_event", "Discontinued after an adverse event"),
                            ("dismissed_flag", "Eligible over a dismissed absolute flag"),
                        ],
                        max_length=20,
                    ),
                ),
                ("considered_at", models.DateTimeField(auto_now_add=True)),
                ("due_on", models.DateField(blank=True, null=True)),
                (
                    "verdict",
                    models.CharField(
                        blank=True,
                        choices=[("agree", "Agree"), ("discuss", "Discuss"), ("disagree", "Disagree")],
                        max_length=10,
                    ),
                ),
                ("comment", models.TextField(blank=True, max_length=5000)),
                ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "reminded_at",
                    models.DateTimeField(
                        blank=True, help_text="When the supervisor was told it is overdue.", null=True
                    ),
                ),
                (
                    "escalated_at",
                    models.DateTimeField(blank=True, help_text="When the coordinators were told.", null=True),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "prescriber",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "supervisor",
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
                "ordering": ["due_on", "considered_at"],
                "indexes": [models.Index(fields=["supervisor", "reviewed_at", "due_on"], name="supervision_queue")],
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "record_id"), name="supervision_case_once"),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("reason", ""),
                            models.Q(("supervisor__isnull", False), ("due_on__isnull", False)),
                            _connector="OR",
                        ),
                        name="supervision_picked_has_supervisor",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="SupervisionComment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("body", models.TextField(max_length=5000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comments",
                        to="network.supervisioncase",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="SupervisionPolicy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "first_patients",
                    models.PositiveSmallIntegerField(
                        default=5, help_text="Every evaluation of a prescriber's first N patients goes to supervision."
                    ),
                ),
                (
                    "sample_percent",
                    models.PositiveSmallIntegerField(
                        default=10,
                        help_text="Then this percentage of evaluations, sampled.",
                        validators=[django.core.validators.MaxValueValidator(100)],
                    ),
                ),
                (
                    "sample_seed",
                    models.CharField(default="kapcare", help_text="Recorded with the policy.", max_length=32),
                ),
                (
                    "mg_per_kg_threshold",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("2.50"),
                        max_digits=4,
                        validators=[django.core.validators.MinValueValidator(0)],
                    ),
                ),
                ("dose_increase_percent", models.PositiveSmallIntegerField(default=25)),
                (
                    "review_days",
                    models.PositiveSmallIntegerField(
                        default=7, validators=[django.core.validators.MinValueValidator(1)]
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "medical_group",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="accounts.organization"
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "supervision policies",
            },
        ),
        migrations.CreateModel(
            name="SupervisionAssignment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "prescriber",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="supervision",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "supervisor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="supervisees",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("prescriber", models.F("supervisor")), _negated=True),
                        name="supervision_not_self",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="consultationgroup",
            name="members",
            field=models.ManyToManyField(
                related_name="+", through="network.GroupMembership", to=settings.AUTH_USER_MODEL
            ),
        ),
    ]

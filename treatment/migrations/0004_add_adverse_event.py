"""Side-effect and adverse-event reports. Numbered 0003 beside 0003_add_follow_up (built at the same time);
it depends on that one so the migration graph has a single leaf."""

import uuid

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0007_add_safety_alerts"),
        ("treatment", "0003_add_follow_up"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
                "indexes": [models.Index(fields=["patient", "-reported_at"], name="adverse_event_patient_time")],
            },
        ),
    ]

"""reminders 0001-0004 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import messaging.reminders.models


class Migration(migrations.Migration):
    replaces = [
        ("reminders", "0001_initial"),
        ("reminders", "0002_add_urgent_message_kinds"),
        ("reminders", "0003_add_visit_reminders"),
        ("reminders", "0004_add_prescription_reminders"),
    ]

    initial = True

    dependencies = [
        ("patients", "0007_add_safety_alerts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReminderPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "quiet_start",
                    models.TimeField(default=messaging.reminders.models.default_quiet_start, verbose_name="quiet from"),
                ),
                (
                    "quiet_end",
                    models.TimeField(default=messaging.reminders.models.default_quiet_end, verbose_name="quiet until"),
                ),
                (
                    "muted_kinds",
                    models.JSONField(blank=True, default=list, help_text="Non-essential kinds the patient turned off."),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "patient",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminder_preference",
                        to="patients.patient",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Reminder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("follow_up_soon", "Follow-up visit due within 7 days"),
                            ("follow_up_tomorrow", "Follow-up visit due tomorrow"),
                            ("follow_up_overdue", "Follow-up visit overdue"),
                            ("follow_up_overdue_coord", "Follow-up visit a week overdue (coordinator)"),
                            ("dosing_tomorrow", "Dosing session tomorrow: pre-dosing checklist"),
                            ("safety_alert_raised", "New safety alert"),
                            ("safety_alert_unack", "Safety alert unacknowledged after 1 hour"),
                            ("safety_alert_escalated", "Safety alert unacknowledged after 4 hours (coordinator)"),
                            ("urgent_message_unack", "Urgent care-team message unacknowledged after 1 hour"),
                            (
                                "urgent_message_escalated",
                                "Urgent care-team message unacknowledged after 4 hours (coordinator)",
                            ),
                            ("consent_resign", "New consent version to sign"),
                            ("licence_expiring", "Clinician licence expiring within 30 days"),
                            ("questionnaire_due", "Questionnaire due"),
                            ("questionnaire_overdue", "Questionnaire overdue"),
                            ("session_note_unsigned", "Session note unsigned after 24 hours"),
                            ("session_doc_missing", "Session documentation missing before a follow-up"),
                            ("message_digest", "Unread messages (daily digest)"),
                            ("visit_tomorrow", "Prescriber visit tomorrow"),
                            ("follow_up_to_book", "Book your follow-up visit"),
                            ("refill_window_closing", "Prescription refills end within 14 days (6 months)"),
                            ("pdmp_check_due", "PDMP check due before the follow-up"),
                            ("stock_count_due", "Controlled-substance count due"),
                        ],
                        max_length=30,
                    ),
                ),
                ("object_id", models.CharField(help_text="The record the reminder is about (an id).", max_length=64)),
                ("occasion", models.CharField(help_text="Which time it is about, and for whom.", max_length=120)),
                (
                    "recipient_email",
                    models.EmailField(
                        blank=True, help_text="Only for a chaperone, who has no account.", max_length=254
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "E-mail"), ("in_app", "In the app")], default="email", max_length=10
                    ),
                ),
                ("due_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                            ("skipped", "Skipped"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=300)),
                (
                    "claim_token",
                    models.UUIDField(blank=True, help_text="The delivery attempt holding the row.", null=True),
                ),
                ("claimed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "enqueued_at",
                    models.DateTimeField(blank=True, help_text="When a delivery task was last published.", null=True),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reminders",
                        to="patients.patient",
                    ),
                ),
                (
                    "recipient",
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
                "ordering": ["-due_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["pending", "sending"])),
                        fields=["due_at"],
                        name="reminder_open_due",
                    ),
                    models.Index(fields=["patient", "-due_at"], name="reminder_patient_due"),
                    models.Index(fields=["status", "-due_at"], name="reminder_status_due"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "object_id", "occasion"), name="reminder_once_per_occasion"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("recipient__isnull", False),
                            models.Q(("recipient_email", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="reminder_has_recipient",
                    ),
                ],
            },
        ),
    ]

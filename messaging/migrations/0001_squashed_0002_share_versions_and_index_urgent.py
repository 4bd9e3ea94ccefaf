"""messaging 0001-0002 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    replaces = [
        ("messaging", "0001_add_threads_messages_notifications"),
        ("messaging", "0002_share_versions_and_index_urgent"),
    ]

    initial = True

    dependencies = [
        ("patients", "0009_route_alerts_to_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Thread",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("care_team", "Care team"), ("patient", "With the patient")], max_length=12
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="threads", to="patients.patient"
                    ),
                ),
            ],
            options={
                "ordering": ["patient_id", "kind"],
                "constraints": [
                    models.UniqueConstraint(fields=("patient", "kind"), name="thread_one_per_patient_and_kind")
                ],
            },
        ),
        migrations.CreateModel(
            name="Message",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("text", "Message"),
                            ("integration_summary", "Integration summary"),
                            ("side_effect_report", "Side-effect report"),
                            ("dose_change", "Dose change"),
                            ("system_event", "Course event"),
                        ],
                        default="text",
                        max_length=24,
                    ),
                ),
                ("body", models.TextField(blank=True, max_length=5000)),
                ("card", models.JSONField(blank=True, default=dict)),
                (
                    "source_type",
                    models.CharField(
                        blank=True, help_text="The record shared, e.g. treatment.adverseevent.", max_length=50
                    ),
                ),
                ("source_id", models.CharField(blank=True, max_length=64)),
                ("urgent", models.BooleanField(default=False, help_text="Each recipient must acknowledge it.")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "author",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "for_clinician",
                    models.ForeignKey(
                        blank=True,
                        help_text="In the patient's thread: the team member the patient wrote to (empty: the whole team).",
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
                    "thread",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="messages", to="messaging.thread"
                    ),
                ),
                ("source_version", models.PositiveSmallIntegerField(default=1)),
            ],
            options={
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(fields=["thread", "-created_at"], name="message_thread_time"),
                    models.Index(fields=["patient", "-created_at"], name="message_patient_time"),
                    models.Index(
                        condition=models.Q(("urgent", True)), fields=["created_at"], name="message_urgent_time"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("source_id", ""), _negated=True),
                        fields=("thread", "source_type", "source_id", "source_version"),
                        name="message_record_shared_once",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MessageRecipient",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="recipients", to="messaging.message"
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="patients.patient"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("read_at__isnull", True)),
                        fields=["user", "patient"],
                        name="message_recipient_unread",
                    )
                ],
                "constraints": [models.UniqueConstraint(fields=("message", "user"), name="message_recipient_once")],
            },
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=30)),
                ("title", models.CharField(max_length=200)),
                (
                    "url",
                    models.CharField(
                        blank=True, help_text="Where it leads; ids only, never patient data.", max_length=300
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                (
                    "message",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notifications",
                        to="messaging.message",
                    ),
                ),
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
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["recipient", "-created_at"], name="notification_recipient_time"),
                    models.Index(
                        condition=models.Q(("read_at__isnull", True)), fields=["recipient"], name="notification_unread"
                    ),
                ],
            },
        ),
    ]

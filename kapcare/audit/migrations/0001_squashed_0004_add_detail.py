"""audit 0001-0004 squashed, for a fresh database: each model created whole in its final state
(columns in the order the old migrations leave them), then the triggers and seeded rows they end with.
A database that applied only some of the replaced migrations goes on through them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# 0002's append-only trigger, as the chain leaves it.
# SQLite: 0003 rebuilt the table to add columns, which dropped 0002's triggers there; the chain ends without them.
# audit 0005 puts them back.
POSTGRES_FORWARD = """
CREATE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)


class Migration(migrations.Migration):
    replaces = [
        ("audit", "0001_add_audit_event"),
        ("audit", "0002_refuse_update_and_delete"),
        ("audit", "0003_add_actor_name_and_fields"),
        ("audit", "0004_add_detail"),
    ]

    initial = True

    dependencies = [
        ("patients", "0001_add_patient_and_care_team"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("at", models.DateTimeField(auto_now_add=True)),
                ("actor_role", models.CharField(blank=True, max_length=20)),
                ("object_type", models.CharField(max_length=50)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("read", "Read"),
                            ("list", "Listed"),
                            ("create", "Created"),
                            ("update", "Changed"),
                            ("delete", "Deleted"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[("allowed", "Allowed"), ("denied", "Denied")], default="allowed", max_length=10
                    ),
                ),
                ("request_id", models.CharField(max_length=32)),
                ("client_ip", models.GenericIPAddressField(null=True)),
                (
                    "actor",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="patients.patient",
                    ),
                ),
                (
                    "actor_name",
                    models.CharField(
                        blank=True, help_text="The actor's name at the time of the event.", max_length=300
                    ),
                ),
                (
                    "fields",
                    models.CharField(
                        blank=True, help_text="Names (never values) of the fields changed.", max_length=300
                    ),
                ),
                ("detail", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["patient", "-at"], name="audit_patient_at"),
                    models.Index(fields=["actor", "-at"], name="audit_actor_at"),
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]

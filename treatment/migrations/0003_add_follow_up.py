"""The prescriber's follow-up visit, and its lock: the database refuses any change to a signed follow-up
and deleting one. Drafts (the course's next, pending visit) stay editable. The admin, a shell and raw SQL
are all held to this, as for signed dose plans (0002)."""

import django.core.validators
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


POSTGRES_FORWARD = """
CREATE FUNCTION treatment_followup_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a signed follow-up never changes (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER treatment_followup_signed_locked
    BEFORE UPDATE OR DELETE ON treatment_followup
    FOR EACH ROW EXECUTE FUNCTION treatment_followup_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS treatment_followup_signed_locked ON treatment_followup;
DROP FUNCTION IF EXISTS treatment_followup_refuse_change();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER treatment_followup_refuse_update BEFORE UPDATE ON treatment_followup
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'a signed follow-up never changes'); END;""",
    """CREATE TRIGGER treatment_followup_refuse_delete BEFORE DELETE ON treatment_followup
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'a signed follow-up is never deleted'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS treatment_followup_refuse_update;",
    "DROP TRIGGER IF EXISTS treatment_followup_refuse_delete;",
]


def forward(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("treatment", "0002_lock_signed_dose_plans"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
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
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]

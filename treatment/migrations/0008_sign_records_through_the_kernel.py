"""Dose plans, follow-ups and progress notes move onto the signed-record kernel (kapcare.signing): a signed_by
column (the prescriber or author who signed, copied for the rows signed so far), the kernel's check constraint,
and its triggers in place of those of 0002, 0003 and 0006 (the signed-row part; 0006's append-only and
frozen-with-the-note triggers stay). The kernel's triggers also refuse writing a row as signed except through
the sign service; a dose plan keeps its one transition, signed -> superseded with its content untouched."""

import django.db.models.deletion
from django.conf import settings
import importlib

from django.db import migrations, models
from django.db.models import F

import kapcare.signing.operations

LEGACY = ("doseplan", "followup", "sessionnote")
DROP_LEGACY = {
    "postgresql": [
        statement
        for model in LEGACY
        for statement in (
            f"DROP TRIGGER IF EXISTS treatment_{model}_signed_locked ON treatment_{model};",
            f"DROP FUNCTION IF EXISTS treatment_{model}_refuse_change();",
        )
    ],
    "sqlite": [f"DROP TRIGGER IF EXISTS treatment_{model}_refuse_{op};" for model in LEGACY for op in ("update", "delete")],
}
SIGNER = {"DosePlan": "prescriber", "FollowUp": "prescriber", "SessionNote": "author"}


# SQLite rebuilds a table to add a column or a constraint, which a trigger on another table naming it would
# break: 0006's frozen-with-the-note triggers (they read treatment_sessionnote) step aside meanwhile.
LOCK_0006 = importlib.import_module("treatment.migrations.0006_lock_signed_session_documentation")
FROZEN = [sql for sql in LOCK_0006.SQLITE_FORWARD if "_frozen_" in sql]
DROP_FROZEN = [
    f"DROP TRIGGER IF EXISTS {table}_frozen_{op};"
    for table in LOCK_0006.FROZEN_WITH_NOTE
    for op in ("insert", "update", "delete")
]


def drop_legacy_triggers(apps, schema_editor):
    statements = [*DROP_LEGACY.get(schema_editor.connection.vendor, [])]
    if schema_editor.connection.vendor == "sqlite":
        statements += DROP_FROZEN
    for sql in statements:
        schema_editor.execute(sql, params=None)


def restore_frozen_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in FROZEN:
            schema_editor.execute(sql, params=None)


def fill_signed_by(apps, schema_editor):
    for name, signer in SIGNER.items():
        apps.get_model("treatment", name).objects.exclude(status="draft").update(signed_by=F(signer))
    if schema_editor.connection.vendor == "postgresql":  # check the deferred foreign keys before ALTER TABLE
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0010_describe_consent_email_change_flag'),
        ('treatment', '0007_add_real_timeline_policy_and_late_entries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_legacy_triggers, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(
            model_name='doseplan',
            name='dose_plan_signed_has_time_and_hash',
        ),
        migrations.RemoveConstraint(
            model_name='sessionnote',
            name='session_note_signed_has_time_and_hash',
        ),
        migrations.AddField(
            model_name='doseplan',
            name='signed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='followup',
            name='signed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='sessionnote',
            name='signed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(fill_signed_by, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='doseplan',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), models.Q(('signed_at__isnull', False), models.Q(('content_hash', ''), _negated=True), ('signed_by__isnull', False)), _connector='OR'), name='treatment_doseplan_signed_complete'),
        ),
        migrations.AddConstraint(
            model_name='followup',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), models.Q(('signed_at__isnull', False), models.Q(('content_hash', ''), _negated=True), ('signed_by__isnull', False)), _connector='OR'), name='treatment_followup_signed_complete'),
        ),
        migrations.AddConstraint(
            model_name='sessionnote',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), models.Q(('signed_at__isnull', False), models.Q(('content_hash', ''), _negated=True), ('signed_by__isnull', False)), _connector='OR'), name='treatment_sessionnote_signed_complete'),
        ),
        migrations.RunPython(restore_frozen_triggers, migrations.RunPython.noop),
        kapcare.signing.operations.SignedRecordTriggers(
            model_name="doseplan", transition=["signed", "superseded", ["superseded_at", "updated_at"]]
        ),
        kapcare.signing.operations.SignedRecordTriggers(model_name="followup"),
        kapcare.signing.operations.SignedRecordTriggers(model_name="sessionnote"),
    ]

"""Evaluations move onto the signed-record kernel (kapcare.signing): a signed_by column (the prescriber who
signed, copied for the rows signed so far), the kernel's check constraint, and its triggers in place of
0004's evaluation trigger, which also refuse writing a row as signed except through the sign service.
0004's flag-review and addendum triggers stay."""

import django.db.models.deletion
from django.conf import settings
import importlib

from django.db import migrations, models
from django.db.models import F

import kapcare.signing.operations

DROP_LEGACY = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS assessments_evaluation_signed_locked ON assessments_evaluation;",
        "DROP FUNCTION IF EXISTS assessments_evaluation_refuse_change();",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS assessments_evaluation_refuse_update;",
        "DROP TRIGGER IF EXISTS assessments_evaluation_refuse_delete;",
    ],
}


# SQLite rebuilds a table to add a column or a constraint, which a trigger on another table naming it would
# break: 0004's flag-review triggers step aside meanwhile.
FLAG_REVIEW_TRIGGERS = [
    sql
    for sql in importlib.import_module("assessments.migrations.0004_lock_signed_evaluations").SQLITE_FORWARD
    if "ON assessments_evaluationflagreview" in sql
]


def drop_legacy_triggers(apps, schema_editor):
    statements = [*DROP_LEGACY.get(schema_editor.connection.vendor, [])]
    if schema_editor.connection.vendor == "sqlite":
        statements += [f"DROP TRIGGER IF EXISTS assessments_evaluationflagreview_refuse_{op};" for op in ("update", "delete")]
    for sql in statements:
        schema_editor.execute(sql, params=None)


def restore_flag_review_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in FLAG_REVIEW_TRIGGERS:
            schema_editor.execute(sql, params=None)


def fill_signed_by(apps, schema_editor):
    apps.get_model("assessments", "Evaluation").objects.exclude(status="draft").update(signed_by=F("prescriber"))
    if schema_editor.connection.vendor == "postgresql":  # check the deferred foreign keys before ALTER TABLE
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0007_add_questionnaire_difficulty'),
        ('patients', '0010_describe_consent_email_change_flag'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_legacy_triggers, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(
            model_name='evaluation',
            name='evaluation_signed_has_time_and_hash',
        ),
        migrations.AddField(
            model_name='evaluation',
            name='signed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(fill_signed_by, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='evaluation',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), models.Q(('signed_at__isnull', False), models.Q(('content_hash', ''), _negated=True), ('signed_by__isnull', False)), _connector='OR'), name='assessments_evaluation_signed_complete'),
        ),
        migrations.RunPython(restore_flag_review_triggers, migrations.RunPython.noop),
        kapcare.signing.operations.SignedRecordTriggers(model_name="evaluation"),
    ]

"""Integration summaries move onto the signed-record kernel (kapcare.signing): status, signed_at, signed_by and
content_hash, the kernel's check constraint and triggers, and signed addenda (append-only). Data kept: a summary
whose session's progress note is already signed was frozen by that signature (0006), so it is marked signed
with the note's signer and time and the hash of its own content; every other summary stays a draft.
0006's frozen-with-the-note trigger on the summary steps aside while the rows are marked, and comes back."""

import importlib
import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import kapcare.signing.operations
from kapcare.signing.models import content_sha256

TABLE = "treatment_integrationsummary"
CONTENT_FIELDS = ("themes", "insights", "changes", "concerns_for_prescriber")
LOCK_0006 = importlib.import_module("treatment.migrations.0006_lock_signed_session_documentation")
DROP_FROZEN = {
    "postgresql": [f"DROP TRIGGER IF EXISTS {TABLE}_frozen_with_note ON {TABLE};"],
    "sqlite": [f"DROP TRIGGER IF EXISTS {TABLE}_frozen_{op};" for op in ("insert", "update", "delete")],
}
RESTORE_FROZEN = {
    "postgresql": [
        f"""CREATE TRIGGER {TABLE}_frozen_with_note BEFORE INSERT OR UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION treatment_refuse_after_note_signed();"""
    ],
    "sqlite": [sql for sql in LOCK_0006.SQLITE_FORWARD if f"CREATE TRIGGER {TABLE}_frozen_" in sql],
}


def drop_frozen_trigger(apps, schema_editor):
    for sql in DROP_FROZEN.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def restore_frozen_trigger(apps, schema_editor):
    for sql in RESTORE_FROZEN.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def sign_summaries_of_signed_notes(apps, schema_editor):
    """As the note's signature froze them: signed by the note's signer at its time, hashed as the kernel does."""
    summaries = apps.get_model("treatment", "IntegrationSummary").objects.filter(session__note__status="signed")
    for summary in summaries.select_related("session__note"):
        note = summary.session.note
        content = {name: getattr(summary, name) for name in CONTENT_FIELDS}
        content.update(session=str(summary.session_id), patient=str(summary.patient_id), author=summary.author_id)
        summary.status = "signed"
        summary.signed_at = note.signed_at
        summary.signed_by_id = note.signed_by_id or note.author_id
        summary.content_hash = content_sha256(content)
        summary.save(update_fields=["status", "signed_at", "signed_by", "content_hash"])
    if schema_editor.connection.vendor == "postgresql":  # check the deferred foreign keys before ALTER TABLE
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0013_assignment_need'),
        ('treatment', '0012_stock_site_clinicians'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_frozen_trigger, restore_frozen_trigger, elidable=False),
        migrations.CreateModel(
            name='IntegrationSummaryAddendum',
            fields=[
                ('signed_at', models.DateTimeField()),
                ('content_hash', models.CharField(max_length=64)),
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('body', models.TextField(max_length=10000)),
            ],
            options={
                'verbose_name_plural': 'integration summary addenda',
                'ordering': ['signed_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='integrationsummary',
            name='content_hash',
            field=models.CharField(blank=True, max_length=64, verbose_name='SHA-256 of the signed content'),
        ),
        migrations.AddField(
            model_name='integrationsummary',
            name='signed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='integrationsummary',
            name='signed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='integrationsummary',
            name='status',
            field=models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', max_length=10),
        ),
        migrations.RunPython(sign_summaries_of_signed_notes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='integrationsummary',
            constraint=models.CheckConstraint(condition=models.Q(('status', 'draft'), models.Q(('signed_at__isnull', False), models.Q(('content_hash', ''), _negated=True), ('signed_by__isnull', False)), _connector='OR'), name='treatment_integrationsummary_signed_complete'),
        ),
        migrations.AddField(
            model_name='integrationsummaryaddendum',
            name='author',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='integrationsummaryaddendum',
            name='patient',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient'),
        ),
        migrations.AddField(
            model_name='integrationsummaryaddendum',
            name='summary',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='addenda', to='treatment.integrationsummary'),
        ),
        migrations.RunPython(restore_frozen_trigger, drop_frozen_trigger, elidable=False),
        kapcare.signing.operations.SignedRecordTriggers(model_name="integrationsummary"),
        kapcare.signing.operations.AddendumTriggers(model_name="integrationsummaryaddendum"),
    ]

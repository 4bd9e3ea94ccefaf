"""SQLite only: put back 0004's triggers on patients_consentsignature, which 0008's table rebuild dropped there
(the squashed 0001 ends without them too). PostgreSQL kept its trigger; nothing to do there."""

from django.db import migrations

SQLITE_FORWARD = [
    f"""CREATE TRIGGER IF NOT EXISTS patients_consentsignature_refuse_{op.lower()}
    BEFORE {op} ON patients_consentsignature
    BEGIN SELECT RAISE(ABORT, 'patients_consentsignature is append-only: {op} refused'); END;"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS patients_consentsignature_refuse_{op};" for op in ("update", "delete")]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("patients", "0014_add_dashboard_panel_indexes")]

    operations = [migrations.RunPython(forward, backward)]

"""SQLite only: put back 0002's append-only triggers, which 0003's table rebuild dropped there (the squashed
0001 ends without them too). PostgreSQL kept its trigger; nothing to do there."""

from django.db import migrations

SQLITE_FORWARD = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_auditevent_refuse_{op.lower()} BEFORE {op} ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: {op} refused'); END;"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS audit_auditevent_refuse_{op};" for op in ("update", "delete")]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_add_detail")]

    operations = [migrations.RunPython(forward, backward)]

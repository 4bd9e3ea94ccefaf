"""The audit trail is append-only, enforced by the database itself rather than trusted to code."""

from django.db import migrations

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
SQLITE_FORWARD = [
    f"""CREATE TRIGGER audit_auditevent_refuse_{op.lower()} BEFORE {op} ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only: {op} refused'); END;"""
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS audit_auditevent_refuse_{op};" for op in ("update", "delete")]


def forward(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_add_audit_event")]

    operations = [migrations.RunPython(forward, backward)]

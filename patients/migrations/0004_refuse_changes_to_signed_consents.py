"""Signed consents never change, and neither does a published consent text: the database itself
refuses, rather than trusting every code path to remember."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION patients_consentsignature_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'patients_consentsignature is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER patients_consentsignature_append_only
    BEFORE UPDATE OR DELETE ON patients_consentsignature
    FOR EACH ROW EXECUTE FUNCTION patients_consentsignature_refuse_change();

CREATE FUNCTION patients_consentdocument_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NULL THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a published consent document is never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.kind, NEW.version, NEW.title, NEW.body, NEW.required, NEW.published_at)
        IS DISTINCT FROM (OLD.kind, OLD.version, OLD.title, OLD.body, OLD.required, OLD.published_at) THEN
        RAISE EXCEPTION 'a published consent document never changes: publish a new version'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER patients_consentdocument_published_locked
    BEFORE UPDATE OR DELETE ON patients_consentdocument
    FOR EACH ROW EXECUTE FUNCTION patients_consentdocument_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS patients_consentsignature_append_only ON patients_consentsignature;
DROP FUNCTION IF EXISTS patients_consentsignature_refuse_change();
DROP TRIGGER IF EXISTS patients_consentdocument_published_locked ON patients_consentdocument;
DROP FUNCTION IF EXISTS patients_consentdocument_refuse_change();
"""
LOCKED = ("kind", "version", "title", "body", "required", "published_at")
SQLITE_FORWARD = [
    *(
        f"""CREATE TRIGGER patients_consentsignature_refuse_{op.lower()} BEFORE {op} ON patients_consentsignature
        BEGIN SELECT RAISE(ABORT, 'patients_consentsignature is append-only: {op} refused'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
    f"""CREATE TRIGGER patients_consentdocument_refuse_update BEFORE UPDATE ON patients_consentdocument
    WHEN OLD.published_at IS NOT NULL AND ({" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LOCKED)})
    BEGIN SELECT RAISE(ABORT, 'a published consent document never changes: publish a new version'); END;""",
    """CREATE TRIGGER patients_consentdocument_refuse_delete BEFORE DELETE ON patients_consentdocument
    WHEN OLD.published_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'a published consent document is never deleted'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS patients_consentsignature_refuse_update;",
    "DROP TRIGGER IF EXISTS patients_consentsignature_refuse_delete;",
    "DROP TRIGGER IF EXISTS patients_consentdocument_refuse_update;",
    "DROP TRIGGER IF EXISTS patients_consentdocument_refuse_delete;",
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
    dependencies = [("patients", "0003_add_consents_and_education")]

    operations = [migrations.RunPython(forward, backward)]

"""A session's documentation never changes once its progress note is signed, and its running records are
append-only. The database refuses, so the admin, a shell and raw SQL are held to it as the services are:

- a signed progress note never changes and is never deleted; addenda are append-only;
- vitals, boosters, chaperone check-ins and session changes are append-only (a wrong vitals reading is
  followed by a new one, never edited);
- once the note is signed, the session's dosing record and integration summary are frozen and no new
  vitals, boosters or check-ins can be added: corrections are addenda.
"""

from django.db import migrations

APPEND_ONLY = (
    "treatment_sessionnoteaddendum",
    "treatment_vitalsreading",
    "treatment_boosterdose",
    "treatment_chaperonecheckin",
    "treatment_sessionchange",
)
# Rows that belong to a session (column session_id) and freeze when its note is signed.
FROZEN_WITH_NOTE = (
    "treatment_dosingrecord",
    "treatment_integrationsummary",
    "treatment_vitalsreading",
    "treatment_boosterdose",
    "treatment_chaperonecheckin",
)

POSTGRES_FORWARD = [
    """
CREATE FUNCTION treatment_sessionnote_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a signed progress note never changes (% refused): add a signed addendum', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER treatment_sessionnote_signed_locked
    BEFORE UPDATE OR DELETE ON treatment_sessionnote
    FOR EACH ROW EXECUTE FUNCTION treatment_sessionnote_refuse_change();

CREATE FUNCTION treatment_refuse_append_only_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION treatment_refuse_after_note_signed() RETURNS trigger AS $$
DECLARE
    target_session uuid;
BEGIN
    target_session := CASE WHEN TG_OP = 'DELETE' THEN OLD.session_id ELSE NEW.session_id END;
    IF EXISTS (SELECT 1 FROM treatment_sessionnote
               WHERE session_id = target_session AND status <> 'draft') THEN
        RAISE EXCEPTION 'the session''s note is signed, so % is locked (% refused): add a signed addendum',
            TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION treatment_refuse_append_only_change();"""
        for table in APPEND_ONLY
    ),
    *(
        f"""CREATE TRIGGER {table}_frozen_with_note BEFORE INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION treatment_refuse_after_note_signed();"""
        for table in FROZEN_WITH_NOTE
    ),
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS treatment_sessionnote_signed_locked ON treatment_sessionnote;",
    *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in APPEND_ONLY),
    *(f"DROP TRIGGER IF EXISTS {table}_frozen_with_note ON {table};" for table in FROZEN_WITH_NOTE),
    "DROP FUNCTION IF EXISTS treatment_sessionnote_refuse_change();",
    "DROP FUNCTION IF EXISTS treatment_refuse_append_only_change();",
    "DROP FUNCTION IF EXISTS treatment_refuse_after_note_signed();",
]

SIGNED_NOTE_OF = "EXISTS (SELECT 1 FROM treatment_sessionnote WHERE session_id = {row}.session_id AND status <> 'draft')"
SQLITE_FORWARD = [
    *(
        f"""CREATE TRIGGER treatment_sessionnote_refuse_{op.lower()} BEFORE {op} ON treatment_sessionnote
        WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'a signed progress note never changes: add a signed addendum'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""CREATE TRIGGER {table}_refuse_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"""
        for table in APPEND_ONLY
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""CREATE TRIGGER {table}_frozen_{op.lower()} BEFORE {op} ON {table}
        WHEN {SIGNED_NOTE_OF.format(row="NEW" if op == "INSERT" else "OLD")}
        BEGIN SELECT RAISE(ABORT, 'the session''s note is signed, so {table} is locked'); END;"""
        for table in FROZEN_WITH_NOTE
        for op in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS treatment_sessionnote_refuse_{op};" for op in ("update", "delete")),
    *(f"DROP TRIGGER IF EXISTS {table}_refuse_{op};" for table in APPEND_ONLY for op in ("update", "delete")),
    *(
        f"DROP TRIGGER IF EXISTS {table}_frozen_{op};"
        for table in FROZEN_WITH_NOTE
        for op in ("insert", "update", "delete")
    ),
]


def forward(apps, schema_editor):
    statements = {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    statements = {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("treatment", "0005_add_session_records_and_notes")]

    operations = [migrations.RunPython(forward, backward)]

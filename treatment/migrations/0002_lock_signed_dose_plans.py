"""A signed dose plan never changes: the database refuses any change to a signed version except
marking it superseded (with its content untouched), any change at all to a superseded one, and
deleting either. Drafts stay editable. The admin, a shell and raw SQL are all held to this."""

from django.db import migrations

# Everything a signature covers, plus the signature itself.
LOCKED = (
    "course_id",
    "patient_id",
    "version",
    "prescriber_id",
    "medication",
    "route",
    "tablet_strength_mg",
    "full_dose_mg",
    "start_at",
    "boosters_allowed",
    "booster_count",
    "booster_mg",
    "booster_min_minutes",
    "doses_authorized",
    "instructions_patient",
    "instructions_therapist",
    "benzodiazepine_hold",
    "signed_at",
    "content_hash",
)
NEW = ", ".join(f"NEW.{c}" for c in LOCKED)
OLD = ", ".join(f"OLD.{c}" for c in LOCKED)

POSTGRES_FORWARD = f"""
CREATE FUNCTION treatment_doseplan_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'signed' AND NEW.status = 'superseded'
        AND ({NEW}) IS NOT DISTINCT FROM ({OLD}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a signed dose plan never changes (% refused): sign a new version', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER treatment_doseplan_signed_locked
    BEFORE UPDATE OR DELETE ON treatment_doseplan
    FOR EACH ROW EXECUTE FUNCTION treatment_doseplan_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS treatment_doseplan_signed_locked ON treatment_doseplan;
DROP FUNCTION IF EXISTS treatment_doseplan_refuse_change();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER treatment_doseplan_refuse_update BEFORE UPDATE ON treatment_doseplan
    WHEN OLD.status <> 'draft' AND NOT (
        OLD.status = 'signed' AND NEW.status = 'superseded'
        AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in LOCKED)}
    )
    BEGIN SELECT RAISE(ABORT, 'a signed dose plan never changes: sign a new version'); END;""",
    """CREATE TRIGGER treatment_doseplan_refuse_delete BEFORE DELETE ON treatment_doseplan
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'a signed dose plan is never deleted'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS treatment_doseplan_refuse_update;",
    "DROP TRIGGER IF EXISTS treatment_doseplan_refuse_delete;",
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
    dependencies = [("treatment", "0001_add_course_policy_dose_plan_and_session")]

    operations = [migrations.RunPython(forward, backward)]

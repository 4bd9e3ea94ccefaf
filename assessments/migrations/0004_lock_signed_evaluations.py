"""A signed evaluation, its flag reviews and its addenda never change: the database itself refuses,
rather than trusting every code path (the admin, a shell, raw SQL) to remember. Drafts stay editable."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION assessments_evaluation_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a signed evaluation never changes (% refused): add a signed addendum', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessments_evaluation_signed_locked
    BEFORE UPDATE OR DELETE ON assessments_evaluation
    FOR EACH ROW EXECUTE FUNCTION assessments_evaluation_refuse_change();

CREATE FUNCTION assessments_evaluationflagreview_refuse_change() RETURNS trigger AS $$
DECLARE
    parent_status varchar;
BEGIN
    SELECT status INTO parent_status FROM assessments_evaluation
        WHERE id = (CASE WHEN TG_OP = 'INSERT' THEN NEW.evaluation_id ELSE OLD.evaluation_id END);
    IF parent_status IS DISTINCT FROM 'draft' AND parent_status IS NOT NULL THEN
        RAISE EXCEPTION 'the flag reviews of a signed evaluation never change (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessments_evaluationflagreview_locked
    BEFORE INSERT OR UPDATE OR DELETE ON assessments_evaluationflagreview
    FOR EACH ROW EXECUTE FUNCTION assessments_evaluationflagreview_refuse_change();

CREATE FUNCTION assessments_evaluationaddendum_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assessments_evaluationaddendum is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER assessments_evaluationaddendum_append_only
    BEFORE UPDATE OR DELETE ON assessments_evaluationaddendum
    FOR EACH ROW EXECUTE FUNCTION assessments_evaluationaddendum_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS assessments_evaluation_signed_locked ON assessments_evaluation;
DROP FUNCTION IF EXISTS assessments_evaluation_refuse_change();
DROP TRIGGER IF EXISTS assessments_evaluationflagreview_locked ON assessments_evaluationflagreview;
DROP FUNCTION IF EXISTS assessments_evaluationflagreview_refuse_change();
DROP TRIGGER IF EXISTS assessments_evaluationaddendum_append_only ON assessments_evaluationaddendum;
DROP FUNCTION IF EXISTS assessments_evaluationaddendum_refuse_change();
"""
SQLITE_FORWARD = [
    *(
        f"""CREATE TRIGGER assessments_evaluation_refuse_{op.lower()} BEFORE {op} ON assessments_evaluation
        WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'a signed evaluation never changes: add a signed addendum'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""CREATE TRIGGER assessments_evaluationflagreview_refuse_{op.lower()} BEFORE {op}
        ON assessments_evaluationflagreview
        WHEN (SELECT status FROM assessments_evaluation WHERE id = OLD.evaluation_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'the flag reviews of a signed evaluation never change'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
    *(
        f"""CREATE TRIGGER assessments_evaluationaddendum_refuse_{op.lower()} BEFORE {op}
        ON assessments_evaluationaddendum
        BEGIN SELECT RAISE(ABORT, 'assessments_evaluationaddendum is append-only'); END;"""
        for op in ("UPDATE", "DELETE")
    ),
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {table}_refuse_{op};"
    for table in ("assessments_evaluation", "assessments_evaluationflagreview", "assessments_evaluationaddendum")
    for op in ("update", "delete")
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
    dependencies = [("assessments", "0003_add_evaluation_flag_review_and_addendum")]

    operations = [migrations.RunPython(forward, backward)]

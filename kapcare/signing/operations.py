"""The one migration operation that locks a signed-record table in the database (SignedRecord's triggers).

Refused, whatever the client (the admin, a shell, raw SQL):
- INSERT of a row that is not a draft, and UPDATE of a draft into a signed row, unless the sign service opened
  the signing door for this transaction (kapcare.signing.mode);
- any UPDATE of a signed row but the model's one TRANSITION (through the door, signed content untouched);
- DELETE of a signed row.
Drafts stay free. PostgreSQL gets one shared function; SQLite (the embedded default) the same rules per table.
`AddendumTriggers` makes an addendum table append-only the same way."""

from django.db.migrations.operations.base import Operation

from .mode import SQLITE_TABLE

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION kapcare_signed_record_guard() RETURNS trigger AS $$
DECLARE
    door boolean := coalesce(current_setting('kapcare.signing', true), '') = 'on';
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'draft' OR door THEN RETURN NEW; END IF;
        RAISE EXCEPTION '% rows are written as drafts and signed through the sign service', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        IF NEW.status = 'draft' OR door THEN RETURN NEW; END IF;
        RAISE EXCEPTION '% rows are signed only through the sign service', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' AND door AND TG_NARGS >= 2 AND OLD.status = TG_ARGV[0] AND NEW.status = TG_ARGV[1]
        AND to_jsonb(NEW) - (TG_ARGV[2]::text[] || ARRAY['status'])
            = to_jsonb(OLD) - (TG_ARGV[2]::text[] || ARRAY['status'])
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a signed % row never changes (% refused): corrections are signed addenda', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _pg_forward(table, transition):
    args = ""
    if transition:
        old, new, changing = transition
        args = f"'{old}', '{new}', '{{{','.join(changing)}}}'"
    return [
        PG_FUNCTION,
        f"""CREATE TRIGGER {table}_signed_record BEFORE INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION kapcare_signed_record_guard({args});""",
    ]


def _sqlite_forward(table, columns, transition):
    door = f"EXISTS (SELECT 1 FROM {SQLITE_TABLE})"  # noqa: S608 (constants, no input)
    allowed = "0"
    if transition:
        old, new, changing = transition
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns if c not in (*changing, "status"))
        allowed = f"({door} AND OLD.status = '{old}' AND NEW.status = '{new}' AND {same})"
    refuse = "BEGIN SELECT RAISE(ABORT, '{}'); END;"
    return [
        f"CREATE TABLE IF NOT EXISTS {SQLITE_TABLE} (id integer PRIMARY KEY)",
        f"""CREATE TRIGGER {table}_signed_insert BEFORE INSERT ON {table}
        WHEN NEW.status <> 'draft' AND NOT {door}
        {refuse.format(table + " rows are signed only through the sign service")}""",
        f"""CREATE TRIGGER {table}_signed_update BEFORE UPDATE ON {table}
        WHEN (OLD.status = 'draft' AND NEW.status <> 'draft' AND NOT {door})
            OR (OLD.status <> 'draft' AND NOT {allowed})
        {refuse.format("a signed " + table + " row never changes")}""",
        f"""CREATE TRIGGER {table}_signed_delete BEFORE DELETE ON {table}
        WHEN OLD.status <> 'draft'
        {refuse.format("a signed " + table + " row is never deleted")}""",
    ]


def _backward(vendor, table):
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_signed_record ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_signed_{op};" for op in ("insert", "update", "delete")]


class SignedRecordTriggers(Operation):
    """Install the signed-record triggers on a model's table (see the module docstring).
    `transition`: (from status, to status, [columns that may change with it]) for the model's one allowed
    change of a signed row, e.g. ("signed", "superseded", ["superseded_at", "updated_at"])."""

    reversible = True

    def __init__(self, model_name, transition=None):
        self.model_name = model_name
        self.transition = (transition[0], transition[1], tuple(transition[2])) if transition else None

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.transition:
            kwargs["transition"] = [self.transition[0], self.transition[1], list(self.transition[2])]
        return (self.__class__.__name__, [], kwargs)

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            statements = _pg_forward(table, self.transition)
        elif vendor == "sqlite":
            columns = [field.column for field in model._meta.local_concrete_fields]
            statements = _sqlite_forward(table, columns, self.transition)
        else:
            statements = []
        for sql in statements:
            schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        for sql in _backward(schema_editor.connection.vendor, model._meta.db_table):
            schema_editor.execute(sql, params=None)

    def describe(self):
        return f"Lock signed rows of {self.model_name} in the database"

    @property
    def migration_name_fragment(self):
        return f"lock_signed_{self.model_name.lower()}"


PG_ADDENDUM_FUNCTION = """
CREATE OR REPLACE FUNCTION kapcare_addendum_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused): write another addendum', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


class AddendumTriggers(Operation):
    """Make an Addendum table append-only in the database: UPDATE and DELETE refused, whatever the client."""

    reversible = True

    def __init__(self, model_name):
        self.model_name = model_name

    def deconstruct(self):
        return (self.__class__.__name__, [], {"model_name": self.model_name})

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
        vendor = schema_editor.connection.vendor
        statements = []
        if vendor == "postgresql":
            statements = [
                PG_ADDENDUM_FUNCTION,
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION kapcare_addendum_guard();""",
            ]
        elif vendor == "sqlite":
            statements = [
                f"""CREATE TRIGGER {table}_append_only_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"""
                for op in ("UPDATE", "DELETE")
            ]
        for sql in statements:
            schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = from_state.apps.get_model(app_label, self.model_name)._meta.db_table
        if schema_editor.connection.vendor == "postgresql":
            statements = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
        else:
            statements = [f"DROP TRIGGER IF EXISTS {table}_append_only_{op};" for op in ("update", "delete")]
        for sql in statements:
            schema_editor.execute(sql, params=None)

    def describe(self):
        return f"Make {self.model_name} append-only in the database"

    @property
    def migration_name_fragment(self):
        return f"append_only_{self.model_name.lower()}"

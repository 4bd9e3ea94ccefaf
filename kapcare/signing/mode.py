"""The signing door: a transaction-local mark that the sign service is writing the row.

PostgreSQL: the setting `kapcare.signing`, set LOCAL to this transaction (SET LOCAL semantics through
set_config), which the triggers read. SQLite (the embedded `make run` default) has no session settings: a row in
`kapcare_signing_mode`, written and removed inside the same transaction, is the mark. Rolled back with the
transaction either way, so a failed signature never leaves the door open."""

from contextlib import contextmanager

from django.db import connection

SQLITE_TABLE = "kapcare_signing_mode"


def signing_active() -> bool:
    return getattr(connection, "kapcare_signing", False)


def _mark(on: bool):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('kapcare.signing', %s, true)", ["on" if on else "off"])
        elif connection.vendor == "sqlite":
            cursor.execute(f"DELETE FROM {SQLITE_TABLE}")  # noqa: S608 (a constant)
            if on:
                cursor.execute(f"INSERT INTO {SQLITE_TABLE} (id) VALUES (1)")  # noqa: S608
    connection.kapcare_signing = on


@contextmanager
def signing():
    """Open the door for the rows written inside (only in a transaction: the mark ends with it)."""
    if not connection.in_atomic_block:
        raise RuntimeError("signing() runs inside a transaction.")
    _mark(True)
    try:
        yield
    except BaseException:
        connection.kapcare_signing = False  # the transaction rolls back, and the database mark with it
        raise
    _mark(False)

"""Reads whose SQL Django builds and compiles once per process and shape, then runs with each request's values.

Building a queryset (filters, access subqueries, select_related, only, annotations) and compiling it to SQL cost
1-3 ms of Python per query, several times what PostgreSQL spends running it; a dashboard runs the same few shapes
on every visit. `Prepared(build, slots=...)` asks `build(key, values)` for the queryset with stand-in values in
place of everything that varies from one request to the next (the user's id, the time), compiles it once per
`key` (what else decides the query's shape: the role, a limit, a sort order), and keeps the SQL. A call then puts
the request's values where the stand-ins were and runs that SQL through the queryset's own iterable, so the rows
are what the queryset itself would give (model instances with their select_related and annotations, or values).

The time is always a slot, `now`: while `build` runs, `django.utils.timezone.now()` (in the building thread)
answers the stand-in for `now`, so whatever the queryset reads from the clock (an active care team, an open
alert) becomes that slot, and a call runs the SQL at its own `now` (the current time unless given).

What makes it safe: the first build of a key is done twice, with two different sets of stand-ins (the two `now`s
years apart). The SQL must be the same and the parameters must differ exactly where a stand-in stands: a value
computed from a stand-in inside `build` (a date from a time, a window's end) would otherwise be frozen into the
kept SQL, and raises PreparedQueryError instead. Compute such values outside and pass each as a slot.
`stand_in_user` gives `build` a user with only the fields a key names; reading any other field raises. Under
settings.KAPCARE_PREPARED_CHECK (the tests) a call also builds the queryset from its real values and checks that it
compiles to the same SQL and parameters: every call when it is True, the first N calls of each kept shape in the
process when it is a number N.

On PostgreSQL (unless settings.KAPCARE_SERVER_PREPARED_STATEMENTS is off, e.g. behind a pooler in transaction
mode) the kept SQL is also a server-side prepared statement of each connection (PREPARE once, then EXECUTE with
the slots' values): the server then plans a shape once instead of on every call, which cost it 0.3-1.5 ms a query.
A statement's text is the kept SQL with its constants as psycopg2 would send them and `$n` for the slots.

Reads only; nothing here is cached across processes, and rows are never cached at all."""

import itertools
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.signals import connection_created
from django.utils import timezone

# The kinds of slot and their stand-ins: the n-th slot of a kind in the first and in the second build.
_STAND_INS = {
    int: (lambda n: -7_000_000_000 - n, lambda n: -8_000_000_000 - n),
    datetime: (
        lambda n: datetime(2201, 1, 1, tzinfo=UTC) + timedelta(days=n, microseconds=n + 1),
        lambda n: datetime(2301, 6, 1, tzinfo=UTC) + timedelta(days=n, microseconds=n + 7),
    ),
    date: (lambda n: date(2202, 1, 1) + timedelta(days=n), lambda n: date(2302, 6, 1) + timedelta(days=n)),
    uuid.UUID: (
        lambda n: uuid.UUID(f"00000000-5107-4a00-8000-{n:012x}"),
        lambda n: uuid.UUID(f"00000000-5107-4b00-8000-{n:012x}"),
    ),
}


def _same(value):
    return value


def _forms(kind, connection):
    """The forms a value of this kind may take among a compiled query's parameters: itself, or as the backend
    adapts it (SQLite, under `make run`, takes uuids as hex and times as text)."""
    if kind is uuid.UUID:
        return (_same, lambda value: value.hex, str)
    if kind is datetime:
        return (_same, connection.ops.adapt_datetimefield_value)
    if kind is date:
        return (_same, connection.ops.adapt_datefield_value)
    return (_same,)


# A slot's type in a server-side prepared statement.
_SQL_TYPES = {int: "bigint", uuid.UUID: "uuid", datetime: "timestamptz", date: "date"}
_statement_numbers = itertools.count(1)
_entry_numbers = itertools.count(1)


def _forget_statements(sender, connection, **kwargs):
    """A new connection has none of the statements the one before had prepared."""
    connection.__dict__.pop("kapcare_statements", None)


connection_created.connect(_forget_statements)


def _server_statement(connection, sql, params, positions, slots):
    """(the statement's parameter types, its text, the slots in `$n` order), or None where it does not apply."""
    if connection.vendor != "postgresql" or not getattr(settings, "KAPCARE_SERVER_PREPARED_STATEMENTS", False):
        return None
    from psycopg2.extensions import AsIs

    order = list(dict.fromkeys(name for _position, name, _form in positions))
    number = {name: n for n, name in enumerate(order, start=1)}
    with_numbers = list(params)
    for position, name, form in positions:
        if form is not _same:
            return None  # a value the backend adapts: sent as psycopg2 sends it, not as a typed parameter
        with_numbers[position] = AsIs(f"${number[name]}")
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        text = cursor.mogrify(sql, with_numbers).decode()
    types = ", ".join(_SQL_TYPES[slots[name]] for name in order)
    return types, text.replace("%", "%%"), order


class PreparedQueryError(Exception):
    """A build that does not only vary where its slots are (a derived value, a clock read, a changing shape)."""


_building = threading.local()
_build_lock = threading.Lock()


def _stopped_clock(real_now):
    """timezone.now answering the building thread's `now` slot; every other thread's unchanged."""

    def now():
        stopped = getattr(_building, "now", None)
        return real_now() if stopped is None else stopped

    return now


def stand_in_user(user_id, *, role, organization_id=None):
    """A user for `build` with its id, role and organization only: any other field is deferred, and reading one
    asks the database for a user that does not exist (DoesNotExist), so a shape never silently depends on a field
    its key does not name."""
    from kapcare.accounts.models import User

    return User.from_db("default", ["id", "role", "organization_id"], [user_id, role, organization_id])


# The user a query is for, as slots and a part of its key: what kapcare.access and the apps' access modules read
# of a user (their role, and a coordinator's organization).
USER_SLOTS = {"user_id": uuid.UUID, "organization_id": uuid.UUID}
NO_ID = uuid.UUID(int=0)


def user_shape(user):
    return (user.role, user.organization_id is not None)


def user_values(user) -> dict:
    return {"user_id": user.pk, "organization_id": user.organization_id or NO_ID}


def user_of(shape, values):
    """In `build`: the stand-in user of a key's user_shape and the slots' values."""
    role, has_organization = shape
    return stand_in_user(
        values.user_id, role=role, organization_id=values.organization_id if has_organization else None
    )


# A list of ids as slots (`IN (...)` takes one parameter per distinct id): up to ID_SLOTS of them, the rest of the
# slots distinct ids no row has (UUID(int=n): not a version 4 uuid, which every id here is). A longer list is not
# prepared.
ID_SLOTS = 25


def id_slots(count=ID_SLOTS) -> dict:
    return {f"id{n}": uuid.UUID for n in range(count)}


def id_values(ids, count=ID_SLOTS) -> dict:
    ids = list(dict.fromkeys(ids))
    return {f"id{n}": ids[n] if n < len(ids) else uuid.UUID(int=n + 1) for n in range(count)}


def ids_of(values, count=ID_SLOTS) -> list:
    """In `build`: the ids' slots, as a list for `__in`."""
    return [getattr(values, f"id{n}") for n in range(count)]


class Prepared:
    def __init__(self, build, *, slots: dict, max_entries=64):
        """`build(key, values)` returns the queryset for `key`, reading the varying values from `values` (a
        namespace with one attribute per slot, `now` among them); `slots` maps each other slot's name to its type
        (int, uuid.UUID, datetime, date). Past `max_entries` kept shapes (a key with a page's offset has many), a
        new key's queryset is built and run each time, as without this module."""
        unknown = set(slots.values()) - set(_STAND_INS)
        if unknown:
            raise TypeError(f"slots of these types cannot be stood in for: {unknown}")
        self.build = build
        self.slots = {"now": datetime, **slots}
        self.max_entries = max_entries
        self._entries = {}

    def _stand_ins(self, which):
        counts, values = {}, {}
        for name, kind in self.slots.items():
            n = counts[kind] = counts.get(kind, -1) + 1
            values[name] = _STAND_INS[kind][which](n)
        return values

    def _compile(self, key, values):
        with _build_lock:
            real_now = timezone.now
            timezone.now = _stopped_clock(real_now)
            _building.now = values["now"]
            try:
                queryset = self.build(key, SimpleNamespace(**values))
                compiler = queryset.query.get_compiler(using=queryset.db)
                try:
                    sql, params = compiler.as_sql()
                except EmptyResultSet:
                    sql, params = None, ()
            finally:
                _building.now = None
                timezone.now = real_now
        return queryset, compiler, sql, list(params)

    def _prepare(self, key):
        """Build `key` twice (module docstring) and keep its SQL; two threads preparing one key at once both do,
        harmlessly."""
        first, second = self._stand_ins(0), self._stand_ins(1)
        queryset, compiler, sql, params = self._compile(key, first)
        _, _, other_sql, other_params = self._compile(key, second)
        if sql != other_sql or len(params) != len(other_params):
            raise PreparedQueryError(f"{key}: the query's shape changes with its slots")
        connection = connections[queryset.db]
        stand_ins = {}  # a stand-in, in each form it may take, -> (slot, form)
        for name, kind in self.slots.items():
            for form in _forms(kind, connection):
                stand_ins.setdefault(form(first[name]), (name, form, form(second[name])))
        positions = []
        for position, (value, other) in enumerate(zip(params, other_params, strict=True)):
            try:
                name, form, other_stand_in = stand_ins.get(value, (None, None, None))
            except TypeError:  # a parameter that cannot be a key (a list): no slot
                name = None
            if name is not None and other == other_stand_in:
                positions.append((position, name, form))
            elif value != other or name is not None:
                raise PreparedQueryError(
                    f"{key}: parameter {position} varies but is no slot (a value derived from one inside build)"
                )
        statement = None
        if sql is not None:
            statement = _server_statement(connection, sql, params, positions, self.slots)
        entry = SimpleNamespace(
            queryset=queryset, compiler=compiler, sql=sql, params=params, positions=positions, statement=statement
        )
        entry.checked = 0  # calls checked against a fresh build (KAPCARE_PREPARED_CHECK)
        entry.number = next(_entry_numbers)  # names it among a connection's statements, never reused
        self._entries[key] = entry
        return entry

    def __call__(self, key, **values) -> list:
        """The rows of the query of shape `key` with these values for the slots (every slot by name; `now` the
        current time unless given)."""
        values.setdefault("now", timezone.now())
        if set(values) != set(self.slots):
            raise TypeError(f"give exactly the slots {sorted(self.slots)}")
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= self.max_entries:
                return list(self.build(key, SimpleNamespace(**values)))
            entry = self._prepare(key)
        if entry.sql is None:
            return []
        params = list(entry.params)
        for position, name, form in entry.positions:
            params[position] = form(values[name])
        if self._checks(entry):
            self._check(key, values, entry, params)
        queryset = entry.queryset._chain()
        connection = connections[queryset.db]
        sql, prepared_as = entry.sql, None
        if entry.statement is not None:
            connection.ensure_connection()
            known = connection.__dict__.setdefault("kapcare_statements", {})
            types, text, order = entry.statement
            params = [values[name] for name in order]
            arguments = f"({', '.join(['%s'] * len(params))})" if params else ""
            name = known.get(entry.number)
            if name is None:  # a new name for each attempt: one that failed half-way is never prepared twice
                prepared_as = name = f"kapcare_{next(_statement_numbers)}"
                declared = f"({types})" if types else ""
                sql = f"PREPARE {name}{declared} AS {text}; EXECUTE {name}{arguments}"
            else:
                sql = f"EXECUTE {name}{arguments}"
        compiler = _Compiled(entry.compiler, connection, sql, params)
        queryset.query.get_compiler = compiler.for_query
        rows = list(queryset)
        if prepared_as is not None:
            connection.__dict__.setdefault("kapcare_statements", {})[entry.number] = prepared_as
        return rows

    @staticmethod
    def _checks(entry):
        """Whether this call of the entry is checked against a fresh build (KAPCARE_PREPARED_CHECK)."""
        check = getattr(settings, "KAPCARE_PREPARED_CHECK", False)
        if check is True or check is False:
            return check
        entry.checked += 1
        return entry.checked <= check

    def _check(self, key, values, entry, params):
        _, _, sql, fresh = self._compile(key, values)
        if sql != entry.sql or fresh != params:
            raise PreparedQueryError(f"{key}: the kept SQL with these values is not what the queryset compiles to")


class _Compiled:
    """The compiler of the first build (its select list, related-object and annotation maps, which the iterables
    read) on this thread's connection, answering as_sql with the kept SQL and this call's parameters."""

    def __init__(self, compiler, connection, sql, params):
        self.compiler = compiler.__class__.__new__(compiler.__class__)
        self.compiler.__dict__.update(compiler.__dict__)
        self.compiler.connection = connection
        self.compiler.as_sql = lambda *args, **kwargs: (sql, params)

    def for_query(self, using=None, connection=None, elide_empty=True):
        return self.compiler


class PreparedForIds:
    """The rows `rows(ids)` (a queryset) returns about a list of ids, prepared (Prepared) for up to `count` distinct
    ids and built as usual for a longer list; no query for none."""

    def __init__(self, rows, count=ID_SLOTS):
        self.rows, self.count = rows, count
        self._prepared = Prepared(lambda key, values: rows(ids_of(values, count)), slots=id_slots(count))

    def __call__(self, ids) -> list:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        if len(ids) > self.count:
            return list(self.rows(ids))
        return self._prepared("ids", **id_values(ids, self.count))


class UserPages:
    """Pages of `rows(user, *shape)` (a queryset in its final order) for a Paginator: `pages.of(user, *shape)` is
    sliced once per page, and each slice is one Prepared query with the user's values as slots. `shape` (hashable
    values, e.g. a sort order) is what else decides the query; the Paginator must be given the count."""

    def __init__(self, rows, max_entries=64):
        self.rows = rows
        self._prepared = Prepared(self._build, slots=USER_SLOTS, max_entries=max_entries)

    def _build(self, key, values):
        shape_of_user, shape, offset, limit = key
        return self.rows(user_of(shape_of_user, values), *shape)[offset : offset + limit]

    def of(self, user, *shape):
        return _UserPage(self, user, shape)


class _UserPage:
    def __init__(self, pages, user, shape):
        self.pages, self.user, self.shape = pages, user, shape

    def __getitem__(self, window):
        offset, stop = window.start or 0, window.stop
        key = (user_shape(self.user), self.shape, offset, stop - offset)
        return self.pages._prepared(key, **user_values(self.user))

"""The named cast every test shares, and the patients they care for.

Cast: therapist A (practice A), therapist A2 (practice A, another therapist), therapist B
(practice B), the prescriber and the coordinator of the medical group both practices refer to,
a patient and another patient with portal accounts, an administrator, and anonymous. An
outside world: a practice and medical group that share nothing with ours (therapist X, patient X).

Patients, made through the referral service like real ones:
- patient_a:  referred by therapist A; prescriber on the team; the `patient` user's own record.
- patient_a2: referred by therapist A2 (same practice as A, not on A's team); no prescriber yet.
- patient_b:  referred by therapist B; prescriber on the team; the `other_patient` user's record.
- patient_x:  another medical group altogether.
"""

import gc
import os
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from _pytest.nodeid import NodeId
from allauth.account.internal.flows.login import record_authentication
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.http import HttpRequest
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from kapcare.accounts.models import User
from kapcare.celery import app as celery_app
from patients import services as patient_services

from .factories import ClinicianProfileFactory, MedicalGroupFactory, PracticeFactory, UserFactory, enrol_totp

# The browser journeys' shared fixture (clinic_staff) and helpers.
pytest_plugins = ["tests.journeys"]

# pytest-playwright runs an asyncio loop in the main thread from its session fixtures, which start
# before pytest-django creates the test database; Django's async guard would then refuse the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _flushes_the_database(item):
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    fixtures = getattr(item, "fixturenames", ())
    return transactional or any(name in fixtures for name in ("transactional_db", "live_server", "demo_site"))


def _runs_long(item):
    """A group (the browser pages, the embedded SQLite, the drills, a module that builds its world once) or a test
    that flushes the database (a browser journey, real worker processes): the units of minutes and tens of seconds."""
    return item.get_closest_marker("xdist_group") is not None or _flushes_the_database(item)


def pytest_collection_modifyitems(config, items):
    """The long units first and the many short tests after them, so that on `-n` the workers finish together: the
    last unit a worker draws is then a short test, never a minute of browser pages. A flush no longer has to come
    last, since the rows migrations seed come back after each one (`_restore_seeded_rows`)."""
    items.sort(key=lambda item: not _runs_long(item))
    if getattr(config.option, "loadgroup", False):
        _keep_groups_together(items)


def pytest_collection_finish(session):
    """What is loaded once the tests are collected (Django, the apps, every test module) lives for the whole run:
    moved out of the garbage collector's sight, and the youngest generation collected every 10,000 allocations
    rather than 700. Collections cost 4.6 s of a 100 s sample of the suite, then 1.5 s (tests only: production
    processes keep Python's defaults)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _keep_groups_together(items):
    """`--dist loadgroup` sends the tests of one `xdist_group` to one worker whole (a module that builds its world
    once, the drills one after another). pytest-xdist 3.8 names the group in `item._nodeid`, which pytest 9 no
    longer reads: put it where pytest 9 keeps the node id."""
    for item in items:
        groups = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name")) for mark in item.iter_markers("xdist_group")
        }
        if groups:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(groups))}")


# The rows migrations seed (screening rules, consent documents, education modules: whatever tables hold rows once
# the test database is migrated) are copied into this schema, which `flush` does not empty, and put back after every
# flush; content types and permissions `flush` rebuilds itself.
SEEDED_ROWS = "test_seeded_rows"
REBUILT_BY_FLUSH = {"django_content_type", "auth_permission"}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb):
    """pytest-django's test databases, and a copy of the rows their migrations seeded: made here, or in the
    template this run made, whose copy a worker's database copied from it has already."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # no test of this run uses the database, so none was made
    made_from_this_runs_template = connection.settings_dict["TEST"].get("TEMPLATE") is not None and not (
        django_db_keepdb and not django_db_createdb  # --reuse-db: the template may be older than the migrations
    )
    if not made_from_this_runs_template:
        with django_db_blocker.unblock():
            _keep_seeded_rows()


# Under xdist every worker used to migrate its own database: 96 migrations, 13-20 s, both workers at once on two
# cores. Now the first worker to get here migrates one database, the template, and each worker's database is made as
# a copy of it (`CREATE DATABASE ... TEMPLATE`: Django's TEST["TEMPLATE"] setting, its parallel runner's clone).
TEMPLATE_SUFFIX = "_template"
TEMPLATE_OUTPUT = "kapcare_test_template"  # a worker's `workeroutput` key: the template the controller drops


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request, django_db_modify_db_settings, django_db_blocker, django_db_keepdb, django_db_createdb
):
    """On an xdist worker: the test database is to be made from the template this run migrated once. The template
    has one fixed name per database (`test_kapcare_template`), so none piles up, and is made anew in every run
    (marked with xdist's run id) unless --reuse-db keeps an earlier one; the controller drops it after the run
    (kept with --reuse-db, for a later run's new worker)."""
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is None:
        return  # one process: pytest-django migrates the test database itself, as always
    keepdb = django_db_keepdb and not django_db_createdb
    test = connection.settings_dict["TEST"]
    with django_db_blocker.unblock():
        template = ensure_template(
            workerinput["testrunuid"], keepdb=keepdb, verbosity=request.config.option.verbose, database=test["NAME"]
        )
    if template is None:
        return  # --reuse-db: the worker's database of an earlier run stays, and needs no template
    test["TEMPLATE"] = template
    if not keepdb:
        request.config.workeroutput[TEMPLATE_OUTPUT] = template


def ensure_template(run, *, keepdb=False, verbosity=0, database=None):
    """The template's name once it is made for this run (or, with keepdb, any earlier run); None when keepdb finds
    `database` (a worker's own) already there. One process at a time, under an advisory lock on the server's
    `postgres` database (advisory locks are per database): the first to come makes it, the others wait and take it.
    `make test` starts `python -m tests.template` beside pytest to make it while the workers collect the tests."""
    template = TEST_DATABASE_PREFIX + connection.settings_dict["NAME"] + TEMPLATE_SUFFIX
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
        try:
            if keepdb and database and connection.creation._database_exists(cursor, database):
                return None
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
            )
            made_for = (cursor.fetchone() or [None])[0]  # None: no template, or one left half-made
            if made_for is None or (made_for != run and not keepdb):
                _make_template(template, run, verbosity=verbosity)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])
    return template


def _make_template(template, run, *, verbosity):
    """The migrated database every worker's is copied from, with the copy of its seeded rows; Django's own test
    database creation under the template's name, dropping an earlier run's. Its comment names the run last, so a
    template left half-made is never taken for a finished one."""
    creation, test = connection.creation, connection.settings_dict["TEST"]
    database, worker_database = connection.settings_dict["NAME"], test["NAME"]
    test["NAME"] = template
    try:
        creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
        _keep_seeded_rows()
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON DATABASE {connection.ops.quote_name(template)} IS %s", [run])
    finally:
        # Closes the connection (a template must have none when copied) and points it back at the server's database.
        creation.destroy_test_db(old_database_name=database, verbosity=0, keepdb=True)
        test["NAME"] = worker_database


_templates_used = pytest.StashKey[set]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the xdist controller: note the template a worker used, to drop it once every worker is done."""
    template = getattr(node, "workeroutput", {}).get(TEMPLATE_OUTPUT)
    if template is not None:
        node.config.stash.setdefault(_templates_used, set()).add(template)


def pytest_sessionfinish(session):
    """On the xdist controller, after the run: drop the templates the workers were made from."""
    templates = session.config.stash.get(_templates_used, set())
    if not templates:
        return
    with session.config.stash[blocking_manager_key].unblock(), connection.creation._nodb_cursor() as cursor:
        for template in templates:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(template)}")


def _keep_seeded_rows():
    tables = sorted(set(connection.introspection.django_table_names(only_existing=True)) - REBUILT_BY_FLUSH)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})" for table in tables),  # noqa: S608 (table names)
            tables,
        )
        seeded = [table for (table,) in cursor.fetchall()]
        cursor.execute(f"DROP SCHEMA IF EXISTS {SEEDED_ROWS} CASCADE; CREATE SCHEMA {SEEDED_ROWS}")
        for table in seeded:
            cursor.execute(f"CREATE TABLE {SEEDED_ROWS}.{quote(table)} AS TABLE {quote(table)}")


@receiver(post_migrate, dispatch_uid="tests.fixtures.restore_seeded_rows")
def _restore_seeded_rows(sender, using, **kwargs):
    """After a flush (which sends post_migrate for every app: acting on one is enough), the seeded rows come back
    as they were, keys included, and each key's sequence continues after them as after the migrations. During the
    test database's own migrate there is no copy yet: nothing to do."""
    database = connections[using]
    if sender.label != "patients" or database.vendor != "postgresql":
        return
    with database.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [SEEDED_ROWS])
        for (table,) in cursor.fetchall():
            quoted = database.ops.quote_name(table)
            cursor.execute(
                f"INSERT INTO {quoted} SELECT * FROM {SEEDED_ROWS}.{quoted}"  # noqa: S608 (a table name)
                f" WHERE NOT EXISTS (SELECT 1 FROM {quoted})"
            )
            for sequence in database.introspection.get_sequences(cursor, table):
                column = database.ops.quote_name(sequence["column"])
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, %s), MAX({column})) FROM {quoted}",  # noqa: S608
                    [quoted, sequence["column"]],
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@receiver(user_logged_in)
def _force_login_passes_the_second_factor(sender, request, user, **kwargs):
    """`client.force_login(user)` stands for a complete login, second factor included, as the tests have always
    meant it: record the `mfa` step allauth records after a code (kapcare.middleware.second_factor_passed).
    Only force_login's bare HttpRequest gets it; logins through the real pages (WSGIRequest) must earn it."""
    if type(request) is HttpRequest:
        record_authentication(request, user, "mfa", type="totp", test_force_login=True)


@pytest.fixture
def celery_eager():
    """The tasks the test enqueues run inline, in the test, their errors raised there. Without it (or the
    `celery_eager` mark) a task is published to the broker as in production, and nothing runs it: only the drills
    and the privacy canary start workers."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager = conf.task_eager_propagates = True
    yield
    conf.task_always_eager, conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _celery_eager_when_marked(request):
    if request.node.get_closest_marker("celery_eager") is not None:
        request.getfixturevalue("celery_eager")


CLINIC_HOUR_UTC = time(21)  # 13:00 in California (14:00 in summer): five hours back and three ahead stay 08:00-18:00


def next_clinic_hour():
    now = datetime.now(UTC)
    at = datetime.combine(now.date(), CLINIC_HOUR_UTC, tzinfo=UTC)
    return at if at >= now else at + timedelta(days=1)


@pytest.fixture(autouse=True)
def _at_a_clinic_hour():
    """Sessions are booked only at clinic hours (treatment.visits: 08:00-18:00 in the patient's zone), and
    the tests book "in N days" from now: so every test runs with the clock moved forward (never back) to the
    next 21:00 UTC, and ticking. A test that travels further does so from there."""
    with time_machine.travel(next_clinic_hour(), tick=True):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps rate limits and used TOTP codes in the (Redis) cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def medical_group(db):
    return MedicalGroupFactory(name="Cascade Medical Group")


@pytest.fixture
def practice_a(medical_group):
    return PracticeFactory(name="Practice A", medical_group=medical_group)


@pytest.fixture
def practice_b(medical_group):
    return PracticeFactory(name="Practice B", medical_group=medical_group)


# The cast's names are fixed, and share no part with the patients' (Avery Alder, Blair Birch, Casey Cedar, Dana
# Dogwood, Emery Elm): pages show the signed-in user's name, and the tests check that a refusal shows no patient's.
STAFF_NAMES = {
    "therapist.a@example.test": ("Theodora", "Vance"),
    "therapist.a2@example.test": ("Idris", "Lowell"),
    "therapist.b@example.test": ("Sunniva", "Kerrigan"),
    "therapist.x@example.test": ("Tobias", "Granger"),
    "prescriber@example.test": ("Helena", "Brandvold"),
    "coordinator@example.test": ("Colette", "Marchetti"),
    "coordinator.x@example.test": ("Wren", "Halloran"),
    "admin@example.test": ("Rosalind", "Stavros"),
}


def _staff(role, organization, email, *, licensed=True):
    first_name, last_name = STAFF_NAMES.get(email, (None, None))
    names = {"first_name": first_name, "last_name": last_name} if first_name else {}
    user = UserFactory(role=role, organization=organization, email=email, **names)
    if licensed:  # therapists also hold an Oregon licence: the cast refers clients living there
        ClinicianProfileFactory(user=user, also_licensed_in=("OR",) if role == User.Role.THERAPIST else ())
    enrol_totp(user)
    return user


@pytest.fixture
def therapist_a(practice_a):
    return _staff(User.Role.THERAPIST, practice_a, "therapist.a@example.test")


@pytest.fixture
def therapist_a2(practice_a):
    return _staff(User.Role.THERAPIST, practice_a, "therapist.a2@example.test")


@pytest.fixture
def therapist_b(practice_b):
    return _staff(User.Role.THERAPIST, practice_b, "therapist.b@example.test")


@pytest.fixture
def prescriber(medical_group):
    return _staff(User.Role.PRESCRIBER, medical_group, "prescriber@example.test")


@pytest.fixture
def coordinator(medical_group):
    return _staff(User.Role.COORDINATOR, medical_group, "coordinator@example.test", licensed=False)


@pytest.fixture
def admin_user(db):
    return _staff(User.Role.ADMIN, None, "admin@example.test", licensed=False)


@pytest.fixture
def anonymous():
    return AnonymousUser()


def refer(therapist, first_name, last_name, email, *, prescriber=None, coordinator=None, account=False, state="CA"):
    """A patient as the services make one: referred (no invitation e-mail), optionally given a
    prescriber by the coordinator and a portal account. The cast's prescriber is licensed in CA only,
    so referral assigns them automatically to CA patients once they exist; other states stay unassigned."""
    patient = patient_services.patient_refer(
        actor=therapist,
        first_name=first_name,
        last_name=last_name,
        email=email,
        date_of_birth=date(1985, 5, 17),
        state=state,
        invite=False,
    )
    if prescriber is not None:
        patient_services.prescriber_assign(actor=coordinator, patient=patient, prescriber=prescriber)
    if account:
        patient.user = UserFactory(role=User.Role.PATIENT, email=f"portal.{email}")
        patient.save(update_fields=["user"])
    return patient


@pytest.fixture
def patient_a(therapist_a, prescriber, coordinator):
    return refer(
        therapist_a,
        "Avery",
        "Alder",
        "avery@example.test",
        prescriber=prescriber,
        coordinator=coordinator,
        account=True,
    )


@pytest.fixture
def patient_a2(therapist_a2):
    return refer(therapist_a2, "Blair", "Birch", "blair@example.test", state="OR")


@pytest.fixture
def patient_b(therapist_b, prescriber, coordinator):
    return refer(
        therapist_b,
        "Casey",
        "Cedar",
        "casey@example.test",
        prescriber=prescriber,
        coordinator=coordinator,
        account=True,
    )


@pytest.fixture
def outside_world(db):
    """A practice, medical group, coordinator and therapist that share nothing with ours."""
    group = MedicalGroupFactory(name="Elsewhere Medical")
    practice = PracticeFactory(name="Elsewhere Practice", medical_group=group)
    therapist = _staff(User.Role.THERAPIST, practice, "therapist.x@example.test")
    coordinator_x = _staff(User.Role.COORDINATOR, group, "coordinator.x@example.test", licensed=False)
    return {"therapist": therapist, "coordinator": coordinator_x}


@pytest.fixture
def patient_x(outside_world):
    return refer(outside_world["therapist"], "Dana", "Dogwood", "dana@example.test")


@pytest.fixture
def patient(patient_a):
    """The patient user (portal account of patient_a)."""
    return patient_a.user


@pytest.fixture
def other_patient(patient_b):
    """Another patient user (portal account of patient_b)."""
    return patient_b.user


@pytest.fixture
def cast(therapist_a, therapist_b, prescriber, coordinator, patient, other_patient, admin_user, anonymous):
    return {
        "therapist_a": therapist_a,
        "therapist_b": therapist_b,
        "prescriber": prescriber,
        "coordinator": coordinator,
        "patient": patient,
        "other_patient": other_patient,
        "admin": admin_user,
        "anonymous": anonymous,
    }


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` signs in through the session like the portal does."""
    client = APIClient()

    def as_user(user):
        client.logout()
        if user.is_authenticated:
            client.force_login(user)
        return client

    client.as_user = as_user
    return client


def make_world():
    """The cast and the patients A, A2, B and X in one call, for a module that makes them once: made as the fixtures
    above make them and in the order `cast` and the patients ask for them (the order decides, e.g., which patients
    the prescriber is assigned on referral)."""
    group = MedicalGroupFactory(name="Cascade Medical Group")
    practice_a = PracticeFactory(name="Practice A", medical_group=group)
    practice_b = PracticeFactory(name="Practice B", medical_group=group)
    therapist_a = _staff(User.Role.THERAPIST, practice_a, "therapist.a@example.test")
    therapist_b = _staff(User.Role.THERAPIST, practice_b, "therapist.b@example.test")
    prescriber = _staff(User.Role.PRESCRIBER, group, "prescriber@example.test")
    coordinator = _staff(User.Role.COORDINATOR, group, "coordinator@example.test", licensed=False)
    team = {"prescriber": prescriber, "coordinator": coordinator, "account": True}
    patient_a = refer(therapist_a, "Avery", "Alder", "avery@example.test", **team)
    patient_b = refer(therapist_b, "Casey", "Cedar", "casey@example.test", **team)
    admin = _staff(User.Role.ADMIN, None, "admin@example.test", licensed=False)
    therapist_a2 = _staff(User.Role.THERAPIST, practice_a, "therapist.a2@example.test")
    patient_a2 = refer(therapist_a2, "Blair", "Birch", "blair@example.test", state="OR")
    elsewhere = MedicalGroupFactory(name="Elsewhere Medical")
    practice_x = PracticeFactory(name="Elsewhere Practice", medical_group=elsewhere)
    therapist_x = _staff(User.Role.THERAPIST, practice_x, "therapist.x@example.test")
    _staff(User.Role.COORDINATOR, elsewhere, "coordinator.x@example.test", licensed=False)
    patient_x = refer(therapist_x, "Dana", "Dogwood", "dana@example.test")
    cast = {
        "therapist_a": therapist_a,
        "therapist_b": therapist_b,
        "prescriber": prescriber,
        "coordinator": coordinator,
        "patient": patient_a.user,
        "other_patient": patient_b.user,
        "admin": admin,
        "anonymous": AnonymousUser(),
    }
    return cast, {"A": patient_a, "A2": patient_a2, "B": patient_b, "X": patient_x}


@contextmanager
def kept_for_the_module(django_db_blocker):
    """For a module-scoped fixture: rows made inside stay for the module's tests, each of which runs in a savepoint
    of this outer transaction (the `db` fixture), and are rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)

"""`make run`'s embedded setup under concurrent writes (issue 15): the development settings on a SQLite file,
the web server (`runserver`, a thread per request) and a Celery worker on the folder broker, all in a temporary
KAPCARE_DATA_DIR, never the test PostgreSQL. 8 clients refer 100 patients at once through the API, and the
worker sends each invitation meanwhile: every answer is a 201, every patient is stored, and neither process
logged "database is locked"."""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
# The tests start from one migrated database file (migrating SQLite from zero is most of a test's time).
pytestmark = pytest.mark.xdist_group("embedded_sqlite")
CLIENTS = 8
WRITES = 100

SETUP = """
from knox.models import AuthToken
from tests.factories import ClinicianProfileFactory, MedicalGroupFactory, PracticeFactory, UserFactory
practice = PracticeFactory(medical_group=MedicalGroupFactory())
therapist = UserFactory(role="therapist", organization=practice, email="therapist@example.test")
ClinicianProfileFactory(user=therapist)
print(AuthToken.objects.create(user=therapist)[1])
"""
COUNT = """
from django.db import connection
from patients.models import Invitation, Patient
journal = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
print(Patient.objects.count(), Invitation.objects.count(), journal)
"""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(data_dir, port):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER"}
    }
    return {
        **environment,
        "DJANGO_SETTINGS_MODULE": "kapcare.settings.dev",
        "KAPCARE_DATA_DIR": str(data_dir),
        "KAPCARE_BASE_URL": f"http://127.0.0.1:{port}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        "CELERY_SKIP_CHECKS": "1",  # Django's system checks as the worker starts: `make test` runs them once already
    }


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A data folder whose SQLite database `migrate` has brought up to date, once for the module."""
    folder = tmp_path_factory.mktemp("migrated")
    _manage(_environment(folder, _free_port()), "migrate", "--noinput", "-v0")
    return folder


def _migrated_copy(migrated, data_dir):
    for path in migrated.glob("kapcare.sqlite3*"):
        shutil.copy2(path, data_dir / path.name)


def _manage(environment, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _start(environment, log, args):
    return subprocess.Popen(
        args, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _refer(base, token, number):
    body = {
        "first_name": "Concurrent",
        "last_name": f"Writer{number}",
        "email": f"writer{number}@example.test",
        "date_of_birth": "1990-02-03",
        "state": "CA",
    }
    response = requests.post(
        f"{base}/api/v1/patients/", json=body, headers={"Authorization": f"Token {token}"}, timeout=60
    )
    return response.status_code


def _tail(folder, characters=3000):
    """What the web server and the worker printed (the last `characters`, or all)."""
    text = (folder / "processes.log").read_text()
    return text[-characters:] if characters else text


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


PG_TRIGGERS = "SELECT relname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid WHERE NOT tgisinternal"
APPEND_ONLY = {
    "audit_auditevent": "INSERT INTO audit_auditevent (at, actor_role, object_type, object_id, action, outcome, "
    "request_id, actor_name, fields, detail) VALUES ('2026-01-05', '', 'patient', '1', 'read', 'allowed', '', '', "
    "'[]', '{}')",
    "patients_consentsignature": "INSERT INTO patients_consentsignature (typed_name, signed_at, text_sha256, "
    "document_id, patient_id, signer_session) VALUES ('A B', '2026-01-05', '', 1, 'p', '')",
}


def test_sqlite_keeps_every_trigger_postgresql_has(migrated, db):
    """A migration that rebuilds a table on SQLite (`_remake_table`: AddField, AlterField) drops its triggers
    there and nowhere else: each trigger of the migrated PostgreSQL test database (one per table and rule) has its
    rule on SQLite (one trigger per table, rule and operation: `<table>_<rule>_<insert|update|delete>`)."""
    with connection.cursor() as cursor:
        cursor.execute(PG_TRIGGERS)
        postgresql = Counter(table for (table,) in cursor.fetchall())
    sqlite = sqlite3.connect(migrated / "kapcare.sqlite3")
    triggers = sqlite.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    sqlite.close()
    rules = {(table, name.rsplit("_", 1)[0]) for name, table in triggers}

    assert Counter(table for table, _rule in rules) == postgresql


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_sqlite_refuses_to_change_the_audit_trail_and_signed_consents(migrated, tmp_path, table):
    _migrated_copy(migrated, tmp_path)
    sqlite = sqlite3.connect(tmp_path / "kapcare.sqlite3")
    sqlite.execute(APPEND_ONLY[table])

    for statement in [f"UPDATE {table} SET id = id", f"DELETE FROM {table}"]:  # noqa: S608 (constants)
        with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
            sqlite.execute(statement)
    assert sqlite.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)  # noqa: S608 (constants)
    sqlite.close()


def test_the_web_server_and_the_worker_share_sqlite_under_100_concurrent_writes(migrated, tmp_path):
    port = _free_port()
    environment = _environment(tmp_path, port)
    _migrated_copy(migrated, tmp_path)
    token = _manage(environment, "shell", "-c", SETUP).strip().splitlines()[-1]

    log = open(tmp_path / "processes.log", "ab")  # noqa: SIM115 (closed at the end)
    processes = [
        _start(environment, log, [sys.executable, "-m", "celery", "-A", "kapcare", "worker", "--pool=solo"]),
        _start(environment, log, [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
    ]
    try:
        _wait_for(lambda: _answers(port), 60, "the web server")
        with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
            statuses = list(clients.map(lambda n: _refer(f"http://127.0.0.1:{port}", token, n), range(WRITES)))
        assert statuses.count(201) == WRITES, (sorted(set(statuses)), _tail(tmp_path))
        # The worker sends the 100 invitation e-mails (console backend: into the log) while the server writes.
        _wait_for(lambda: _tail(tmp_path, None).count("Your invitation") >= WRITES, 240, "the invitation e-mails")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        log.close()

    assert "database is locked" not in _tail(tmp_path, None), _tail(tmp_path)
    patients, invitations, journal = _manage(environment, "shell", "-c", COUNT).splitlines()[-1].split()
    assert (int(patients), int(invitations), journal) == (WRITES, WRITES, "wal")


DEMO_PAGES = """
import re
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
for email in ["therapist", "therapist2", "prescriber", "coordinator", "patient", "admin"]:
    client = Client()
    client.post("/accounts/login/", {"login": f"{email}@demo.kapcare.test", "password": "kapcare-demo-2026"})
    page = client.get("/")
    charts = sorted(set(re.findall(r'href="(/patients/[0-9a-f-]{36}/)"', page.content.decode())))
    statuses = {page.status_code} | {client.get(chart).status_code for chart in charts}
    print(email, len(charts), *sorted(statuses))
"""


def test_the_demo_dashboards_and_charts_answer_on_the_embedded_sqlite(migrated, tmp_path):
    """What `make run` serves first: every demo role's dashboard and each chart linked from it, on SQLite
    (PostgreSQL-only SQL in a dashboard query would pass every other test and break the demo)."""
    environment = {**_environment(tmp_path, _free_port()), "KAPCARE_REQUIRE_MFA": "false"}
    _migrated_copy(migrated, tmp_path)
    _manage(environment, "seed_demo")
    lines = [line.split() for line in _manage(environment, "shell", "-c", DEMO_PAGES).splitlines()[-6:]]
    assert {role: statuses for role, _charts, *statuses in lines} == {
        role: ["200"] for role in ["therapist", "therapist2", "prescriber", "coordinator", "patient", "admin"]
    }
    assert all(int(charts) > 0 for role, charts, *_ in lines if role in {"therapist", "prescriber", "coordinator"})

"""Reminder drills (QUALITY.md, Reliability): real worker and beat PROCESSES on a real Redis (a throwaway
redis-server on a free port, never the shared one) and the real PostgreSQL test database. Each drill
prints planned / sent / lost / duplicated, and asserts lost = 0 and duplicated = 0.

"sent" is counted at the mail server: the drill's backend (messaging.reminders.drill) appends every
message it accepts, with its Message-ID, to a file shared by all worker processes.

Run alone with `make drill`, or: pytest tests/test_reminder_drills.py -s"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from messaging.reminders.drill import read_sink
from messaging.reminders.models import Reminder, ReminderPreference
from treatment.course import services as course_services
from treatment.models import TherapySession

ROOT = Path(settings.BASE_DIR)
SESSIONS = 20  # dosing sessions tomorrow; each reminds the patient and the chaperone: 40 reminders
EXPECTED = 2 * SESSIONS

# One xdist worker runs the drills one after another (`--dist loadgroup`), as `make drill` does: each starts
# its own worker, beat and Redis processes, and two drills at once would only compete for the two cores.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("reminder_drills")]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A throwaway redis-server that keeps nothing on restart (no RDB, no AOF), like a crashed broker."""

    def __init__(self, workdir):
        self.port = _free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.ping, 10, "redis-server to answer")

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def queued(self, queue="celery"):
        import redis

        return redis.Redis.from_url(self.url + "/0").llen(queue)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()  # SIGKILL: a crash, not a clean shutdown that could save anything
            self.process.wait(timeout=10)

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture(autouse=True)
def _at_a_clinic_hour():
    """The drills run real worker and beat processes on the real clock: the suite's clinic-hour clock
    (tests/fixtures.py) would put this process hours ahead of them. The drills book no sessions."""
    yield


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Drill:
    """Starts worker, beat and one-shot planner processes against the test database and the drill's Redis."""

    def __init__(self, tmp_path, redis_server, send_seconds):
        self.tmp = tmp_path
        self.redis = redis_server
        self.sink = tmp_path / "sink.log"
        self.processes = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kapcare.settings.drill",
            "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
            "REDIS_URL": redis_server.url + "/1",  # the cache, apart from the broker's db 0
            "DRILL_BROKER_URL": redis_server.url + "/0",
            "DRILL_SINK": str(self.sink),
            "DRILL_SEND_SECONDS": str(send_seconds),
            "KAPCARE_REMINDER_PLAN_SECONDS": "1",
            "KAPCARE_REMINDER_SWEEP_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            # Celery runs Django's system checks as each worker and beat starts: about 1.5 s of CPU each, which
            # `make test` spends once already (`makemigrations --check`) and the drills repeat a dozen times.
            "CELERY_SKIP_CHECKS": "1",
        }
        self.env.pop("PYTEST_XDIST_WORKER", None)  # the drill's own Redis databases, not a worker's shifted one

    def _start(self, name, args, loglevel="WARNING"):
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "kapcare", *args, f"--loglevel={loglevel}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log
        self.processes.append(process)
        return process

    def worker(self, name):
        return self._start(
            f"worker-{name}",
            [
                "worker",
                "--pool=solo",
                f"--hostname={name}@drill",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
        )

    def beat(self, name):
        return self._start(
            f"beat-{name}", ["beat", f"--schedule={self.tmp / f'beat-{name}'}", "--pidfile="], loglevel="INFO"
        )

    def plans_sent_by(self, name):
        """How many planning tasks a beat published (its log, at INFO)."""
        log = self.tmp / f"beat-{name}.log"
        return log.read_text().count("Sending due task plan-reminders") if log.exists() else 0

    def plan_once(self):
        """What one beat tick does, in its own process: plan, then publish the due rows to the broker."""
        code = "from messaging.tasks import plan_reminders; print(plan_reminders())"
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=self.env, check=True, capture_output=True
        )

    @staticmethod
    def kill(process, sig=signal.SIGKILL):
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)
        process.log.close()

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            process.log.close()

    def logs(self):
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.tmp.glob("*.log")))

    def counts(self):
        ids = {f"<reminder-{pk}@kapcare.reminders>" for pk in Reminder.objects.values_list("pk", flat=True)}
        accepted = read_sink(self.sink)
        return {
            "planned": len(ids),
            "sent": len(ids & accepted.keys()),
            "lost": len(ids - accepted.keys()),
            "duplicated": sum(times - 1 for times in accepted.values()) + len(accepted.keys() - ids),
        }

    def all_sent(self):
        statuses = list(Reminder.objects.values_list("status", flat=True))
        return len(statuses) == EXPECTED and all(s == Reminder.Status.SENT for s in statuses)

    def wait(self, condition, timeout, what):
        try:
            _wait(condition, timeout, what)
        except AssertionError as error:
            statuses = sorted(Reminder.objects.values_list("status", "attempts", "last_error"))
            raise AssertionError(f"{error}\nrows: {statuses}\n{self.logs()}") from None

    def report(self, name):
        counts = self.counts()
        print(f"\nDRILL {name}: " + " ".join(f"{key}={value}" for key, value in counts.items()))
        return counts


@pytest.fixture
def drill(request, tmp_path, redis_server):
    send_seconds = getattr(request, "param", 0.05)
    drill = Drill(tmp_path, redis_server, send_seconds)
    yield drill
    drill.stop_all()


@pytest.fixture
def sessions_tomorrow(patient_a):
    """20 dosing sessions a day away for a patient with a chaperone and no quiet hours: 40 reminders due now."""
    patient_a.chaperone_email = "chaperone@example.test"
    patient_a.save(update_fields=["chaperone_email"])
    ReminderPreference.objects.create(patient=patient_a, quiet_start=clock_time(0), quiet_end=clock_time(0))
    course = course_services.course_current(actor=None, patient=patient_a)
    start = timezone.now() + timedelta(hours=20)
    TherapySession.objects.bulk_create(
        TherapySession(
            course=course,
            patient=patient_a,
            kind=TherapySession.Kind.DOSING,
            scheduled_at=start + timedelta(minutes=7 * i),
            created_by=patient_a.referred_by,
        )
        for i in range(SESSIONS)
    )
    return patient_a


def _assert_no_loss(drill, counts):
    assert counts["planned"] == EXPECTED, drill.logs()
    assert counts["lost"] == 0, drill.logs()
    assert counts["duplicated"] == 0, drill.logs()
    assert counts["sent"] == EXPECTED


def test_drill_a_real_worker_delivers_every_reminder(drill, sessions_tomorrow):
    drill.worker("w1")
    drill.beat("b1")
    drill.wait(drill.all_sent, 180, "every reminder sent")

    _assert_no_loss(drill, drill.report("worker delivers"))


@pytest.mark.parametrize("drill", [1.0], indirect=True)
def test_drill_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(drill, sessions_tomorrow):
    worker = drill.worker("w1")
    drill.beat("b1")
    drill.wait(lambda: len(read_sink(drill.sink)) >= 3, 180, "the first reminders sent")

    def caught_mid_send():
        # a row claimed in the last 0.2 s: the worker is inside the (1 s) send
        fresh = timezone.now() - timedelta(seconds=0.2)
        return Reminder.objects.filter(status=Reminder.Status.SENDING, claimed_at__gte=fresh).first()

    drill.wait(lambda: caught_mid_send() is not None, 30, "a reminder being sent")
    victim = caught_mid_send()
    drill.kill(worker, signal.SIGKILL)
    victim.refresh_from_db()
    assert victim.status == Reminder.Status.SENDING  # killed between claim and record
    assert victim.message_id not in read_sink(drill.sink)

    drill.env["DRILL_SEND_SECONDS"] = "0.05"  # the mail server is quick again for the replacement worker
    drill.worker("w2")
    drill.wait(drill.all_sent, 180, "every reminder sent after the restart")

    counts = drill.report("worker SIGKILLed mid-delivery")
    _assert_no_loss(drill, counts)
    victim.refresh_from_db()
    assert victim.attempts == 2 and read_sink(drill.sink)[victim.message_id] == 1


def test_drill_redis_restarted_with_reminders_queued_loses_nothing(drill, redis_server, sessions_tomorrow):
    drill.plan_once()  # planned and published, with no worker running
    assert Reminder.objects.filter(enqueued_at__isnull=False).count() == EXPECTED
    assert redis_server.queued() == EXPECTED

    redis_server.restart()
    assert redis_server.queued() == 0  # every queued task is gone with the broker

    drill.worker("w1")
    drill.beat("b1")
    drill.wait(drill.all_sent, 180, "every reminder sent after the broker lost its queue")

    _assert_no_loss(drill, drill.report("Redis restarted with reminders queued"))


def test_drill_two_beats_produce_no_duplicates(drill, sessions_tomorrow):
    drill.worker("w1")
    drill.worker("w2")
    drill.beat("b1")
    drill.beat("b2")
    drill.wait(drill.all_sent, 180, "every reminder sent")
    sent = read_sink(drill.sink)
    both_planned_again = [drill.plans_sent_by(beat) + 2 for beat in ("b1", "b2")]
    # both beats keep planning (and sweeping) over the sent rows: each twice more
    drill.wait(
        lambda: all(drill.plans_sent_by(beat) >= n for beat, n in zip(("b1", "b2"), both_planned_again, strict=True)),
        30,
        "two more plans from each beat",
    )
    assert read_sink(drill.sink) == sent

    counts = drill.report("two beat processes")
    _assert_no_loss(drill, counts)
    assert Reminder.objects.count() == EXPECTED

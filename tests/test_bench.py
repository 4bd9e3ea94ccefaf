"""`make bench`'s parts that CI can run without wrk: seed_load at a tiny size, and the harness's timeout row."""

import argparse
import socket
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from assessments.models import Intake, QuestionnaireResponse
from bench import run
from messaging.reminders import outbox
from messaging.reminders.models import Reminder
from network.supervision.models import SupervisionCase
from patients.models import CareTeamMember, Patient
from treatment.models import AdverseEvent, FollowUp, TherapySession


def test_seed_load_writes_a_tiny_load_set_the_orm_reads_back_and_refuses_a_second_run(db, capsys):
    call_command("seed_load", patients=30, therapists=2, prescribers=1, due_follow_ups=3)

    patients = Patient.objects.filter(medical_group__name="Load Medical Group")
    assert patients.count() == 30
    assert CareTeamMember.objects.active().filter(patient__in=patients).count() == 60
    response = QuestionnaireResponse.objects.filter(instrument="phq9").first()
    assert len(response.answers) == 9 and all(isinstance(value, int) for value in response.answers)
    assert Intake.objects.filter(pregnant=False, can_abstain_alcohol_24h=True).count() == 30
    assert patients.first().referral.reasons[0] in ("treatment_resistant_depression", "trauma", "anxiety")
    assert "30/30 patients" in capsys.readouterr().err  # progress goes to stderr

    with pytest.raises(CommandError, match="already holds the load set"):
        call_command("seed_load", patients=1)


def test_seed_load_has_supervision_in_each_state_and_discharged_courses(db):
    call_command("seed_load", patients=60, therapists=2, prescribers=1)

    picked = SupervisionCase.objects.exclude(reason="")
    assert not picked.filter(supervisor__isnull=True).exists()
    assert picked.filter(reason="first_patients").count() == 5  # the policy's default first five
    waiting = picked.filter(reviewed_at__isnull=True)
    assert waiting.exists() and picked.filter(verdict="agree").exists() and picked.filter(verdict="discuss").exists()
    assert picked.filter(verdict="disagree", acknowledged_at__isnull=True).exists()
    assert SupervisionCase.objects.filter(reason="").exists()  # considered, not picked
    assert FollowUp.objects.signed().filter(decision="complete").exists()
    assert FollowUp.objects.signed().filter(decision="discontinue").exists()
    assert AdverseEvent.objects.exists()


def test_due_follow_ups_fix_the_reminders_planning_finds(db):
    call_command("seed_load", patients=30, therapists=2, prescribers=1, due_follow_ups=3)
    now = timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)

    pending = FollowUp.objects.pending()
    assert pending.filter(due_on=tomorrow).count() == 3
    assert not pending.exclude(due_on=tomorrow).filter(due_on__lt=tomorrow + timedelta(days=29)).exists()
    assert not TherapySession.objects.dosing().filter(status="scheduled", scheduled_at__lte=now + timedelta(days=2))
    with transaction.atomic():
        # Each due follow-up reminds its prescriber (and of the PDMP check due before it, issue 21), and its patient
        # to book the visit (issue 19); nothing else.
        assert outbox.plan(now) == 9
        kinds = Counter(Reminder.objects.values_list("kind", flat=True))
        assert kinds == {
            Reminder.Kind.FOLLOW_UP_TOMORROW: 3,
            Reminder.Kind.PDMP_CHECK_DUE: 3,
            Reminder.Kind.FOLLOW_UP_TO_BOOK: 3,
        }
        transaction.set_rollback(True)


@pytest.fixture
def silent_server():
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    for connection, _address in accepted:
        connection.close()
    listener.close()


def test_an_endpoint_that_times_out_is_a_row_marked_timeout_not_a_crash(silent_server):
    args = argparse.Namespace(request_timeout=0.5, warmup=1, duration=1, connections=1, threads=1)

    row = run.measure(silent_server, "dashboard HTML: prescriber", "/", {}, args)

    assert row["failed"] == run.TIMEOUT
    measured = {"name": "patient list API (page of 50)", "path": "/api/v1/patients/", "queries": 5}
    measured.update(rps=60.0, p50=90_000, p95=120_000, failures=0)
    floor = {"name": "floor (reference, before and after)", "path": "/bench/floor/", "queries": 3}
    floor.update(rps=100.0, p50=50_000, p95=70_000, failures=0)
    runs = [
        {"patients": n, "size": {"rows": 10 * n, "database": "1 MB"}, "rows": [floor, measured, row]}
        for n in (10_000, 100_000)
    ]
    text = run.table(runs)
    assert "| dashboard HTML: prescriber | **timeout** | — | — | — | — | **timeout** |" in text
    assert "| patient list API (page of 50) | 60 | 90.0 | 120.0 | 5 | 0.60 | 60 |" in text
    notes = run.verdicts(runs)
    assert "Patient list API at 10,000 patients: 60% of the floor (target ≥ 50%): held." in notes
    assert "Not measured at 100,000 patients: dashboard HTML: prescriber (timeout)." in notes

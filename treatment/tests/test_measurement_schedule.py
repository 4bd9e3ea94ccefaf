"""The measurement schedule (issue 6, point 3): the baseline set before the first dose (PCL-5 too when trauma is
a referral reason), then before each integration session and every N days (the medical group's care policy)
during an active course; due and overdue questionnaires on the patient's dashboard and the clinicians'."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.questionnaires.services import questionnaire_submit
from patients import due_work
from patients.models import Referral
from tests import course_states
from tests.fixtures import refer
from treatment.measurement import selectors as measurement_selectors
from treatment.measurement.selectors import due_for_course, instrument_codes
from treatment.models import CarePolicy, TherapySession

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
DOSING, INTEGRATION = TherapySession.Kind.DOSING, TherapySession.Kind.INTEGRATION
SCHEDULED, COMPLETED = TherapySession.Status.SCHEDULED, TherapySession.Status.COMPLETED


def patient(reasons=()):
    return SimpleNamespace(referral=SimpleNamespace(reasons=list(reasons)), last_name="Alder", first_name="Avery")


def session(kind, days_from_now, status=SCHEDULED):
    return SimpleNamespace(kind=kind, scheduled_at=NOW + timedelta(days=days_from_now), status=status)


def due(*, sessions=(), answered=None, reasons=(), interval=14, window_start=None, now=NOW):
    entries = due_for_course(
        patient=patient(reasons),
        course=None,
        window_start=window_start,
        sessions=list(sessions),
        answered=answered or {},
        interval_days=interval,
        now=now,
    )
    return {entry.code: (entry.reason, entry.due_on, entry.days_overdue) for entry in entries}


def ago(days):
    return NOW - timedelta(days=days)


def test_the_set_is_phq9_and_gad7_and_pcl5_when_trauma_is_a_referral_reason():
    assert instrument_codes([]) == ("phq9", "gad7")
    assert instrument_codes([Referral.Reason.DEPRESSION]) == ("phq9", "gad7")
    assert instrument_codes([Referral.Reason.TRAUMA, Referral.Reason.ANXIETY]) == ("phq9", "gad7", "pcl5")


def test_the_baseline_is_due_by_the_first_booked_dose():
    result = due(sessions=[session(DOSING, 3)], reasons=[Referral.Reason.TRAUMA])

    assert set(result) == {"phq9", "gad7", "pcl5"}
    assert result["phq9"] == ("Baseline, before the first dose", (NOW + timedelta(days=3)).date(), 0)


def test_the_baseline_is_due_today_when_no_dose_is_booked_and_satisfied_by_any_response_in_the_course():
    assert due()["gad7"] == ("Baseline, before the first dose", NOW.date(), 0)
    assert due(answered={"phq9": [ago(40)], "gad7": [ago(40)]}) == {}
    # A response from before the previous course ended does not count: baselines reset per course.
    assert set(due(answered={"phq9": [ago(40)], "gad7": [ago(40)]}, window_start=ago(30))) == {"phq9", "gad7"}


@pytest.mark.parametrize(
    ("last_days_ago", "expected"),
    [(11, None), (12, (2, 0)), (14, (0, 0)), (15, (-1, 1)), (20, (-6, 6))],
)
def test_every_14_days_during_the_course(last_days_ago, expected):
    """Opens 2 days before it is due; overdue the day after."""
    sessions = [session(DOSING, -30, COMPLETED)]
    result = due(sessions=sessions, answered={"phq9": [ago(last_days_ago)], "gad7": [ago(0)]})
    if expected is None:
        assert "phq9" not in result
    else:
        days, overdue = expected
        assert result["phq9"] == ("Every 14 days during the course", (NOW + timedelta(days=days)).date(), overdue)


def test_the_interval_counts_from_the_first_dose_when_nothing_was_answered_since():
    result = due(sessions=[session(DOSING, -8, COMPLETED)], answered={"phq9": [ago(9)]}, interval=7)
    assert result["phq9"] == ("Every 7 days during the course", (NOW - timedelta(days=1)).date(), 1)


def test_before_each_integration_session_once_the_dose_before_it_is_given():
    dose, integration = session(DOSING, -1, COMPLETED), session(INTEGRATION, 1)
    fresh = {"phq9": [ago(3)], "gad7": [ago(3)]}  # answered before the dose: not for this session
    result = due(sessions=[dose, integration], answered=fresh)
    assert result["phq9"][0].startswith("Before your integration session on ")
    assert result["phq9"][1:] == ((NOW + timedelta(days=1)).date(), 0)

    after_the_dose = {"phq9": [ago(0.5)], "gad7": [ago(0.5)]}
    assert due(sessions=[dose, integration], answered=after_the_dose) == {}
    # The next dose not given yet: its integration session's questionnaire is not open.
    assert (
        due(
            sessions=[session(DOSING, -20, COMPLETED), session(DOSING, 2), session(INTEGRATION, 3)],
            answered={"phq9": [ago(1)], "gad7": [ago(1)]},
        )
        == {}
    )


def test_a_missed_integration_questionnaire_is_overdue_until_the_session_is_closed():
    sessions = [session(DOSING, -3, COMPLETED), session(INTEGRATION, -2)]
    assert due(sessions=sessions, answered={"phq9": [ago(10)], "gad7": [ago(1)]})["phq9"][2] == 2
    sessions[1].status = COMPLETED
    assert "phq9" not in due(sessions=sessions, answered={"phq9": [ago(10)], "gad7": [ago(1)]})


# Through the database: the dashboards, the policy and the query counts.


def dosing_patient(therapist, prescriber, patient_record, *, days_ago=3):
    course_states.ready_to_dose(therapist, prescriber, patient_record)
    course_states.completed_session(
        therapist, patient_record, TherapySession.Kind.DOSING, at=timezone.now() - timedelta(days=days_ago)
    )
    return patient_record


@pytest.mark.django_db
def test_the_patient_and_both_clinicians_see_the_baseline_due(client, patient, patient_a, therapist_a, prescriber):
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)

    client.force_login(patient)
    page = client.get("/").content.decode()
    assert "Questionnaires to answer (2)" in page and "Baseline, before the first dose" in page
    assert 'href="/questionnaires/phq9/"' in page
    listing = client.get("/questionnaires/").content.decode()
    assert "Due now (2)" in listing
    for clinician in (therapist_a, prescriber):
        client.force_login(clinician)
        page = client.get("/").content.decode()
        assert "Questionnaires due (2)" in page and "Alder, Avery" in page

    questionnaire_submit(actor=patient, patient=patient_a, instrument="phq9", answers=[1] * 9)

    client.force_login(therapist_a)
    assert "Questionnaires due (1)" in client.get("/").content.decode()
    client.force_login(patient)
    assert "GAD-7: a few minutes, before your first dose." in client.get("/").content.decode()  # the checklist

    questionnaire_submit(actor=patient, patient=patient_a, instrument="gad7", answers=[0] * 7)

    page = client.get("/").content.decode()
    assert "Questionnaires to answer" not in page
    assert "Answered: your team can see how you were before treatment." in page


@pytest.mark.django_db
def test_the_patients_dashboard_lists_a_window_that_time_alone_opens_once_the_due_work_is_reconciled(
    client, patient, patient_a, therapist_a, prescriber
):
    """The dashboard reads the stored due work (issue 15): a questionnaire that falls due with the passing of time,
    with no service writing, appears after the reconcile (a beat task every 15 minutes), and says what the
    questionnaire list derives."""
    dosing_patient(therapist_a, prescriber, patient_a, days_ago=1)
    for code, count in (("phq9", 9), ("gad7", 7)):
        questionnaire_submit(actor=patient, patient=patient_a, instrument=code, answers=[0] * count)
    client.force_login(patient)
    assert "Questionnaires to answer" not in client.get("/").content.decode()

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        due_work.reconcile()
        client.force_login(patient)  # a new session: the first one ended while idle
        page = client.get("/").content.decode()
        listing = client.get("/questionnaires/").content.decode()
    assert "Questionnaires to answer (2)" in page and "Due now (2)" in listing
    assert page.count("Every 14 days during the course") == 2 and 'href="/questionnaires/gad7/"' in page


@pytest.mark.django_db
def test_the_medical_groups_interval_is_used(patient_a, therapist_a, prescriber, patient):
    dosing_patient(therapist_a, prescriber, patient_a, days_ago=9)
    policy, _created = CarePolicy.objects.update_or_create(
        medical_group=patient_a.medical_group, defaults={"questionnaire_interval_days": 7}
    )
    # No response since the first dose 9 days ago: due 7 days after it.
    assert [(e.code, e.days_overdue) for e in measurement_selectors.questionnaires_due(therapist_a)] == [
        ("gad7", 2),
        ("phq9", 2),
    ]
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        for code, count in (("phq9", 9), ("gad7", 7)):
            questionnaire_submit(actor=patient, patient=patient_a, instrument=code, answers=[0] * count)

    due_now = measurement_selectors.questionnaires_due(therapist_a)
    assert [(e.code, e.days_overdue) for e in due_now] == [("gad7", 1), ("phq9", 1)]
    assert due_now[0].reason == "Every 7 days during the course"

    policy.questionnaire_interval_days = 14
    policy.save()
    assert measurement_selectors.questionnaires_due(therapist_a) == []  # answered 8 days ago: due in 6


@pytest.mark.django_db
def test_no_questionnaire_is_due_without_an_open_course(patient_a, therapist_a):
    assert measurement_selectors.questionnaires_due(therapist_a) == []


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 8])
def test_the_due_list_costs_three_queries_whatever_the_number_of_patients(therapist_a, prescriber, coordinator, count):
    for n in range(count):
        record = refer(
            therapist_a,
            f"Pat{n}",
            f"Due{n:03d}",
            f"due{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
            account=True,
        )
        course_states.ready_to_dose(therapist_a, prescriber, record)

    with CaptureQueriesContext(connection) as captured:
        due_now = measurement_selectors.questionnaires_due(therapist_a)

    assert len(due_now) == 2 * count
    assert len(captured) == 3

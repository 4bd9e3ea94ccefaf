"""What `seed_demo` promises, checked on one demo seeded twice (it is idempotent) for the whole module: a coherent
story in time (issue 16), the network's clinicians, training, consultation and applicants (issue 17), a supervisor
with reviews in each state and completed courses for every clinician (issue 18), Taylor's improving scores.

Seeding takes seconds, so the module seeds once, in a transaction rolled back after it (tests.fixtures
`kept_for_the_module`); each test reads it in a savepoint of its own."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from assessments.models import Evaluation, QuestionnaireResponse
from kapcare.accounts import credentials
from kapcare.accounts.models import KAPTraining, User
from network.consultation.models import ConsultationGroup
from network.joining.models import Application
from network.supervision.models import SupervisionCase
from network.training import selectors as training_selectors
from outcomes import selectors as outcome_selectors
from outcomes.filters import Filters
from patients.models import Patient, SafetyAlert, Stage
from tests.fixtures import kept_for_the_module, next_clinic_hour
from tests.test_due_work import assert_stored_equals_derived
from treatment.models import DosePlan, FollowUp, IntegrationSummary, SessionNote, StockSite, TherapySession
from treatment.notes import selectors as note_selectors
from treatment.prescriptions import stock

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("seed_demo")]  # one worker seeds it, once

DEMO = "demo.kapcare.test"


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("private-media")
    with kept_for_the_module(django_db_blocker), override_settings(PRIVATE_MEDIA_ROOT=media):
        # A little before the clock each test runs at (tests.fixtures._at_a_clinic_hour), so nothing is "later".
        with time_machine.travel(next_clinic_hour() - timedelta(minutes=2)):
            call_command("seed_demo", stdout=io.StringIO())
            call_command("seed_demo", stdout=io.StringIO())
        yield


def local(moment, patient):
    return timezone.localtime(moment, ZoneInfo(patient.time_zone))


def test_the_evaluation_and_dose_plan_are_signed_before_the_first_session_and_dose():
    for patient in Patient.objects.filter(courses__isnull=False).distinct():
        evaluation = Evaluation.objects.get(patient=patient, signed_at__isnull=False)
        plan = DosePlan.objects.filter(patient=patient, signed_at__isnull=False).earliest("signed_at")
        first = TherapySession.objects.filter(patient=patient).earliest("scheduled_at")
        assert evaluation.signed_at <= plan.signed_at < first.scheduled_at, patient
        assert patient.created_at < evaluation.signed_at, patient  # referred first
        for session in TherapySession.objects.filter(patient=patient, scheduled_at__lt=timezone.now()):
            assert 8 <= local(session.scheduled_at, patient).hour < 18, (patient, session.scheduled_at)
            if session.completed_at:
                assert session.scheduled_at < session.completed_at < session.scheduled_at + timedelta(hours=4)
        for follow_up in FollowUp.objects.filter(patient=patient, signed_at__isnull=False):
            last = TherapySession.objects.filter(patient=patient, status="completed").latest("scheduled_at")
            assert follow_up.signed_at > last.completed_at


def test_notes_are_signed_the_day_of_their_session():
    notes = SessionNote.objects.filter(signed_at__isnull=False).select_related("session__patient")
    assert notes.exists()
    for note in notes:
        patient = note.session.patient
        assert local(note.signed_at, patient).date() == local(note.session.scheduled_at, patient).date()


def test_the_demo_has_trained_clinicians_and_a_group_with_two_past_meetings_and_a_case():
    peers = ConsultationGroup.objects.get()
    past = peers.meetings.filter(starts_at__lt=timezone.now())
    assert past.count() == 2 and all(meeting.attendance.count() == 4 for meeting in past)
    assert peers.meetings.filter(starts_at__gt=timezone.now()).count() == 3
    presentation = peers.presentations.get()
    assert presentation.scores and presentation.dose_plan and presentation.meeting in past
    demo_staff = User.objects.filter(role__in=User.CLINICIAN_ROLES, email__endswith=DEMO)
    joined = Application.objects.filter(account__isnull=False).values("account")  # approved, training still to do
    supervisor = f"supervisor@{DEMO}"  # supervises prescribers (issue 18), treats no patients
    for clinician in demo_staff.exclude(pk__in=joined).exclude(email=supervisor):
        transcript = training_selectors.transcript(clinician)
        assert transcript.missing == [c for c, _ in transcript.required if c.title != "KAP foundations"]
        assert KAPTraining.objects.filter(clinician=clinician).count() == 1
    assert credentials.missing_to_sign(User.objects.get(email=f"prescriber@{DEMO}"), "CA") == []


def test_seed_demo_has_an_approved_and_a_pending_applicant_and_keeps_its_clinicians_practising():
    approved = Application.objects.get(email=f"applicant.approved@{DEMO}")
    assert approved.status == Application.Status.APPROVED and approved.account.clinician_profile.is_approved
    assert credentials.standing_gaps(approved.account) == ["no KAP training recorded"]
    assert approved.account.check_password("kapcare-demo-2026")
    pending = Application.objects.get(email=f"applicant.pending@{DEMO}")
    assert pending.status == Application.Status.SUBMITTED and pending.account is None
    for name in ("prescriber", "therapist", "therapist2", "therapist3"):
        clinician = User.objects.get(email=f"{name}@{DEMO}")
        assert credentials.missing_to_treat(clinician, "CA") == [], name


def test_seed_demo_has_a_supervisor_and_reviews_in_each_state():
    supervisor = User.objects.get(email=f"supervisor@{DEMO}")
    cases = SupervisionCase.objects.filter(supervisor=supervisor)
    assert cases.filter(verdict="disagree", acknowledged_at__isnull=True).count() == 1
    assert cases.filter(verdict="agree").count() == 1
    assert cases.filter(reviewed_at__isnull=True).exists()


def test_seed_demo_gives_taylor_an_improving_score_history():
    responses = QuestionnaireResponse.objects.filter(patient__email=f"patient@{DEMO}")
    for code in ("phq9", "gad7"):
        totals = list(responses.filter(instrument=code).order_by("submitted_at").values_list("total_score", flat=True))
        assert len(totals) >= 3 and totals == sorted(totals, reverse=True) and totals[0] >= 15
    assert not SafetyAlert.objects.filter(kind__startswith="phq9").exists()


def test_every_demo_clinician_has_completed_courses_with_scores(client, settings):
    settings.KAPCARE_REQUIRE_MFA = False  # the demo accounts have no second factor enrolled
    for name in ("therapist", "therapist2", "therapist3", "prescriber", "coordinator"):
        user = User.objects.get(email=f"{name}@{DEMO}")
        report = outcome_selectors.outcomes_report(user, Filters())
        assert report.courses.completed >= 1, name
        phq9 = report.outcomes[0]
        assert phq9.response.total >= 1 and phq9.remission.count >= 1, name
    coordinator = User.objects.get(email=f"coordinator@{DEMO}")
    assert outcome_selectors.outcomes_report(coordinator, Filters()).courses.completed == 3
    client.force_login(coordinator)
    assert client.get("/outcomes/").status_code == 200


def test_seed_demo_builds_courses_through_the_services():
    taylor = Patient.objects.get(email=f"patient@{DEMO}")
    assert taylor.stage == Stage.DOSING
    assert Evaluation.objects.signed().get(patient=taylor).decision == "eligible"
    assert DosePlan.objects.signed().filter(patient=taylor).count() == 1
    done = TherapySession.objects.filter(patient=taylor, status="completed")
    assert {"preparation", "dosing", "integration"} <= set(done.values_list("kind", flat=True))
    stages = set(Patient.objects.values_list("stage", flat=True))
    assert {"referred", "intake", "evaluation", "preparation", "dosing", "maintenance", "completed"} <= stages


def test_seed_demo_reaches_maintenance_and_discharge_through_follow_ups():
    avery = Patient.objects.get(email=f"avery.thompson@{DEMO}")
    drew = Patient.objects.get(email=f"drew.kowalski@{DEMO}")
    taylor = Patient.objects.get(email=f"patient@{DEMO}")
    assert (avery.stage, drew.stage, taylor.stage) == (Stage.MAINTENANCE, Stage.COMPLETED, Stage.DOSING)
    assert FollowUp.objects.signed().get(patient=avery).decision == "maintenance"
    assert FollowUp.objects.signed().get(patient=drew).decision == "complete"
    assert drew.courses.get().ended_at is not None
    due = FollowUp.objects.pending().get(patient=taylor).due_on
    assert 0 < (due - timezone.localdate()).days <= 7


def test_seed_demo_documents_taylors_sessions_through_the_services():
    taylor = Patient.objects.get(email=f"patient@{DEMO}")
    notes = SessionNote.objects.filter(patient=taylor)
    assert notes.signed().count() >= 4
    assert notes.drafts().count() == 1, "one unsigned note for the dashboards"
    assert IntegrationSummary.objects.filter(patient=taylor).count() == 2
    therapist = taylor.referred_by
    assert note_selectors.visible_psychotherapy_notes(therapist).filter(patient=taylor).count() == 1
    assert note_selectors.unsigned_notes(therapist)
    assert all(len(note.content_hash) == 64 for note in notes.signed())


def test_the_demo_office_log_has_a_witnessed_waste_and_balances():
    site = StockSite.objects.get(name="Cascade Medical Group office")
    sam = User.objects.get(email=f"therapist@{DEMO}")
    waste = site.entries.get(kind="waste")
    assert sam in site.clinicians.all() and waste.witness == sam and waste.recorded_by.email == f"prescriber@{DEMO}"
    assert stock.site_balance(site) == 4980
    assert stock.discrepancy_report(site) == []


def test_the_demos_stored_due_work_equals_the_rules():
    assert_stored_equals_derived(*User.objects.filter(role__in=User.CLINICIAN_ROLES, email__endswith=f"@{DEMO}"))

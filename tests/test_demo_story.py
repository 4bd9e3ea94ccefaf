"""The demo tells a coherent story in time (issue 16, point 6): every signed record is dated when it clinically
happened, not when the demo was seeded, and sessions fall at clinic hours in the patients' time zone."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import Evaluation
from patients.models import Patient
from treatment.models import DosePlan, FollowUp, SessionNote, TherapySession

pytestmark = pytest.mark.django_db


def local(moment, patient):
    return timezone.localtime(moment, ZoneInfo(patient.time_zone))


def test_the_evaluation_and_dose_plan_are_signed_before_the_first_session_and_dose():
    call_command("seed_demo", stdout=io.StringIO())
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
    call_command("seed_demo", stdout=io.StringIO())
    notes = SessionNote.objects.filter(signed_at__isnull=False).select_related("session__patient")
    assert notes.exists()
    for note in notes:
        patient = note.session.patient
        assert local(note.signed_at, patient).date() == local(note.session.scheduled_at, patient).date()

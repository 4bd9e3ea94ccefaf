"""Route-aware monitoring (issue 21, point 5): an intramuscular dose in the office needs vitals before the dose,
at 40 minutes and before discharge, and 2 hours of observation by default; a sublingual dose needs no timed
reading. The requirements are data (treatment.prescriptions.monitoring) read from the group's CarePolicy."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kapcare.rules import RuleRefused
from tests.course_states import END_CRITERIA, IN_RANGE, confirm_checklist, ready_to_dose
from treatment.models import CarePolicy, DosingRecord
from treatment.prescriptions.monitoring import monitoring_for
from treatment.sessions import services as session_services


def test_the_default_requirements_by_route():
    policy = CarePolicy()
    im = monitoring_for(policy, "intramuscular")
    assert im.vitals == ("pre_dose", "peak", "end") and im.timed_vitals == (("peak", 40),)
    assert im.observation_minutes == 120
    sublingual = monitoring_for(policy, "sublingual_rdt")
    assert sublingual.vitals == ("pre_dose", "end") and sublingual.observation_minutes == 90


@pytest.fixture
def im_session(therapist_a, prescriber, patient_a):
    """An in-office intramuscular dosing session: the dose (100 mg) given at `dose_at`."""
    ready_to_dose(therapist_a, prescriber, patient_a, route="intramuscular", tablet_strength_mg=None)
    start = timezone.now() + timedelta(minutes=1)
    with time_machine.travel(start, tick=False):
        session = session_services.session_schedule(
            actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=start
        )
        confirm_checklist(therapist_a, session)
        session_services.vitals_record(actor=therapist_a, session=session, phase="pre_dose", **IN_RANGE)
        session_services.dose_record(actor=therapist_a, session=session, dose_mg=100)
    return session, start


def vitals_at(therapist, session, at, phase):
    with time_machine.travel(at, tick=False):
        session_services.vitals_record(actor=therapist, session=session, phase=phase, **IN_RANGE)


def end_at(therapist, session, at):
    with time_machine.travel(at, tick=False):
        return session_services.dosing_end(actor=therapist, session=session, criteria=END_CRITERIA)


def test_an_intramuscular_session_does_not_end_before_two_hours(im_session, therapist_a):
    session, dose_at = im_session
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=40), "peak")
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=110), "end")
    with pytest.raises(RuleRefused) as refused:
        end_at(therapist_a, session, dose_at + timedelta(minutes=119))
    assert refused.value.code == "monitoring_time" and "120 minutes" in refused.value.message
    assert DosingRecord.objects.get(session=session).ended_at is None
    assert end_at(therapist_a, session, dose_at + timedelta(minutes=120)).ended_at is not None


def test_an_intramuscular_session_needs_vitals_at_forty_minutes(im_session, therapist_a):
    session, dose_at = im_session
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=20), "peak")  # too early to count
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=125), "end")
    with pytest.raises(RuleRefused) as refused:
        end_at(therapist_a, session, dose_at + timedelta(minutes=130))
    assert refused.value.code == "monitoring_vitals_missing" and "40 minutes" in refused.value.message
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=131), "peak")
    assert end_at(therapist_a, session, dose_at + timedelta(minutes=132)).ended_at is not None


def test_the_policy_sets_the_timed_reading(im_session, therapist_a, medical_group):
    CarePolicy.objects.create(medical_group=medical_group, peak_vitals_minutes_intramuscular=60)
    session, dose_at = im_session
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=45), "peak")
    vitals_at(therapist_a, session, dose_at + timedelta(minutes=121), "end")
    with pytest.raises(RuleRefused, match="60 minutes"):
        end_at(therapist_a, session, dose_at + timedelta(minutes=122))

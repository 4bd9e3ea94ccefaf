"""Sessions to document, built through the services as real use would build them (each builder refreshes the
patient's due work once, at its end: tests.course_states)."""

from datetime import timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from patients.due_work import deferred
from treatment.models import TherapySession
from treatment.sessions import services as session_services

from .course_states import confirm_checklist, ready_to_dose

IN_RANGE = {"systolic": 124, "diastolic": 78, "pulse": 72, "spo2": 98, "taken_by": "therapist"}


def past_session(therapist, patient, kind, *, hours_ago=1):
    """A session that started `hours_ago` hours ago and is still open (not marked completed): booked then, on
    the clock of the time (time-machine), as real use would have booked it."""
    start = timezone.now() - timedelta(hours=hours_ago)
    with time_machine.travel(start, tick=False):
        return session_services.session_schedule(actor=therapist, patient=patient, kind=kind, scheduled_at=start)


@deferred()
def dosing_session(therapist, prescriber, patient):
    """A dosing session that started three hours ago, every gate holding, nothing recorded yet."""
    ready_to_dose(therapist, prescriber, patient)
    return past_session(therapist, patient, TherapySession.Kind.DOSING, hours_ago=3)


@deferred()
def record_pre_dose_and_dose(therapist, session):
    start = session.scheduled_at
    confirm_checklist(therapist, session)
    session_services.vitals_record(
        actor=therapist, session=session, phase="pre_dose", taken_at=start + timedelta(minutes=5), **IN_RANGE
    )
    session_services.dose_record(
        actor=therapist, session=session, dose_mg=Decimal("100.0"), taken_at=start + timedelta(minutes=10)
    )


@deferred()
def record_end(therapist, session):
    start = session.scheduled_at
    session_services.vitals_record(
        actor=therapist, session=session, phase="end", taken_at=start + timedelta(minutes=120), **IN_RANGE
    )
    session_services.dosing_end(
        actor=therapist,
        session=session,
        criteria={"alert_and_oriented": True, "vitals_near_baseline": True, "safe_transport": True},
        ended_at=start + timedelta(minutes=130),
    )


@deferred()
def documented_dosing_session(therapist, prescriber, patient):
    """A dosing session with its whole record: pre-dose vitals, the dose, end vitals, end criteria and time."""
    session = dosing_session(therapist, prescriber, patient)
    record_pre_dose_and_dose(therapist, session)
    record_end(therapist, session)
    session.refresh_from_db()
    return session


@deferred()
def integration_session(therapist, prescriber, patient):
    """An open integration session that started half an hour ago, after a completed, documented dosing session
    (which ended 50 minutes ago)."""
    documented_dosing_session(therapist, prescriber, patient)
    return past_session(therapist, patient, TherapySession.Kind.INTEGRATION, hours_ago=0.5)

"""Edges of the dosing session that a review found open: the end of a session needs real end-of-session
vitals after the dose and in range; "start at half the dose" binds the course's first dose; a signed note
freezes the session's time and status; a discharge never cancels a session under way; the note pages
never fail on an odd `next`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kapcare.rules import RuleRefused
from tests.note_states import IN_RANGE, dosing_session, past_session, record_pre_dose_and_dose
from treatment.models import SessionChange, TherapySession
from treatment.notes import services as note_services
from treatment.sessions import services as session_services
from treatment.tests.test_follow_up import NOTE

CRITERIA = {"alert_and_oriented": True, "vitals_near_baseline": True, "safe_transport": True}


def end_vitals(therapist, session, minutes, **values):
    session_services.vitals_record(
        actor=therapist,
        session=session,
        phase="end",
        taken_at=session.scheduled_at + timedelta(minutes=minutes),
        **{**IN_RANGE, **values},
    )


def end(therapist, session, minutes=130):
    return session_services.dosing_end(
        actor=therapist, session=session, criteria=CRITERIA, ended_at=session.scheduled_at + timedelta(minutes=minutes)
    )


def test_end_vitals_taken_before_the_dose_do_not_end_the_session(therapist_a, prescriber, patient_a):
    session = dosing_session(therapist_a, prescriber, patient_a)
    end_vitals(therapist_a, session, minutes=7)  # before the dose at +10
    record_pre_dose_and_dose(therapist_a, session)

    with pytest.raises(RuleRefused) as refused:
        end(therapist_a, session)

    assert refused.value.code == "end_vitals_missing"
    assert TherapySession.objects.get(pk=session.pk).status == TherapySession.Status.SCHEDULED


def test_out_of_range_end_vitals_keep_the_patient_monitored(therapist_a, prescriber, patient_a):
    session = dosing_session(therapist_a, prescriber, patient_a)
    record_pre_dose_and_dose(therapist_a, session)
    end_vitals(therapist_a, session, minutes=110, systolic=210, diastolic=125)

    with pytest.raises(RuleRefused) as refused:
        end(therapist_a, session)
    assert refused.value.code == "end_vitals_out_of_range"
    assert "systolic 210 above 140" in str(refused.value)

    end_vitals(therapist_a, session, minutes=125)  # settled
    assert end(therapist_a, session).ended_at is not None


def test_the_first_dose_above_half_is_refused(therapist_a, prescriber, patient_a):
    session = dosing_session(therapist_a, prescriber, patient_a)
    session_services.checklist_confirm(
        actor=therapist_a, session=session, items=session_services.checklist_items(session)
    )
    session_services.vitals_record(
        actor=therapist_a, session=session, phase="pre_dose", taken_at=session.scheduled_at, **IN_RANGE
    )

    with pytest.raises(RuleRefused) as refused:
        session_services.dose_record(
            actor=therapist_a, session=session, dose_mg=Decimal("150"), taken_at=session.scheduled_at
        )

    assert refused.value.code == "dose_over_plan"
    assert "first dose is at most 100.0 mg" in str(refused.value)


def test_a_signed_note_freezes_the_sessions_time_and_status(therapist_a, prescriber, patient_a):
    from tests.course_states import ready_to_dose

    ready_to_dose(therapist_a, prescriber, patient_a)
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION, hours_ago=2)
    note_services.note_save_draft(actor=therapist_a, session=session, body="Talked through the week.")
    note_services.note_sign(actor=therapist_a, session=session)

    for change in (
        lambda: session_services.session_reschedule(
            actor=therapist_a, session=session, scheduled_at=timezone.now() + timedelta(days=3), reason="oops"
        ),
        lambda: session_services.session_cancel(actor=therapist_a, session=session, reason="oops"),
        lambda: session_services.session_no_show(actor=therapist_a, session=session, reason="oops"),
    ):
        with pytest.raises(RuleRefused) as refused:
            change()
        assert refused.value.code == "documentation_locked"
    stored = TherapySession.objects.get(pk=session.pk)
    assert (stored.scheduled_at, stored.status) == (session.scheduled_at, TherapySession.Status.SCHEDULED)


def test_a_discharge_waits_for_a_dosing_session_under_way(therapist_a, prescriber, patient_a):
    from treatment.course import services as course_services

    session = dosing_session(therapist_a, prescriber, patient_a)
    record_pre_dose_and_dose(therapist_a, session)
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient_a)
    follow_up = course_services.follow_up_save_draft(
        actor=prescriber, follow_up=follow_up, data={**NOTE, "decision": "discontinue"}
    )

    with pytest.raises(RuleRefused) as refused:
        course_services.follow_up_sign(actor=prescriber, follow_up=follow_up)

    assert refused.value.code == "dosing_session_under_way"
    assert TherapySession.objects.get(pk=session.pk).status == TherapySession.Status.SCHEDULED


def test_a_discharge_cancels_booked_sessions_with_the_reason(therapist_a, prescriber, patient_a):
    from tests.course_states import ready_to_dose
    from treatment.course import services as course_services

    ready_to_dose(therapist_a, prescriber, patient_a)
    booked = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="integration", scheduled_at=timezone.now() + timedelta(days=2)
    )
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient_a)
    follow_up = course_services.follow_up_save_draft(
        actor=prescriber, follow_up=follow_up, data={**NOTE, "decision": "discontinue"}
    )
    course_services.follow_up_sign(actor=prescriber, follow_up=follow_up)

    booked.refresh_from_db()
    assert booked.status == TherapySession.Status.CANCELLED
    assert "discharge" in booked.status_reason
    change = SessionChange.objects.get(session=booked)
    assert (change.kind, change.changed_by) == (SessionChange.Kind.CANCELLED, prescriber)


@pytest.mark.parametrize("next_value", ["x", "2026-03-08T02:30", "https://evil.example/", "//evil.example/"])
def test_the_note_pages_ignore_an_odd_next(client, therapist_a, prescriber, patient_a, next_value):
    from tests.course_states import ready_to_dose

    ready_to_dose(therapist_a, prescriber, patient_a)
    session = past_session(therapist_a, patient_a, TherapySession.Kind.PREPARATION)
    client.force_login(therapist_a)

    response = client.post(
        f"/patients/{patient_a.pk}/sessions/{session.pk}/notes/progress/",
        {"body": "hello", "action": "save", "next": next_value},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient_a.pk}/sessions/{session.pk}/notes/"

"""Courses written straight into the tables (the figures read records, not the gates that made them): a small
fixed cohort whose figures are computed by hand in test_outcomes, and many patients for the query counts."""

from datetime import timedelta

from django.utils import timezone

from assessments.models import QuestionnaireResponse
from kapcare.signing.services import record_sign
from patients.models import CareTeamMember, Patient, Referral
from treatment.models import AdverseEvent, FollowUp, SessionNote, TherapySession, TreatmentCourse

DAY0 = timezone.now().replace(microsecond=0) - timedelta(days=60)


def day(n, hours=0):
    return DAY0 + timedelta(days=n, hours=hours)


def course(patient, *, therapist, started=0, ended=None):
    return TreatmentCourse.objects.create(patient=patient, started_at=day(started), ended_at=ended and day(ended))


def dose(course, *, therapist, on, status=TherapySession.Status.COMPLETED):
    return TherapySession.objects.create(
        course=course,
        patient=course.patient,
        kind=TherapySession.Kind.DOSING,
        scheduled_at=day(on),
        duration_minutes=180,
        therapist=therapist,
        created_by=therapist,
        status=status,
        completed_at=day(on, 3),
        completed_by=therapist,
    )


def score(patient, instrument, total, *, on, hours=0):
    return QuestionnaireResponse.objects.create(
        patient=patient,
        instrument=instrument,
        answers=[],
        total_score=total,
        entered_by=patient.referred_by,
        on_behalf=True,
        submitted_at=day(on, hours),
    )


def adverse_event(course, *, reporter, kind, severity):
    return AdverseEvent.objects.create(
        course=course, patient=course.patient, reported_by=reporter, kind=kind, severity=severity
    )


def follow_up(course, *, prescriber, due, signed=None, decision=""):
    visit = FollowUp.objects.create(
        course=course,
        patient=course.patient,
        due_on=day(due).date(),
        symptoms="s",
        side_effects="s",
        rationale="r",
        decision=decision,
    )
    if signed is not None:
        record_sign(visit, actor=prescriber, at=day(signed), content={"test": "follow-up"}, prescriber=prescriber)
    return visit


def note(session, *, therapist, signed_after_hours=None):
    written = SessionNote.objects.create(session=session, patient=session.patient, author=therapist, body="b")
    if signed_after_hours is not None:
        record_sign(
            written, actor=therapist, at=session.scheduled_at + timedelta(hours=signed_after_hours), content={"b": 1}
        )
    return written


def referred(patient, *, days_before_start):
    Referral.objects.filter(patient=patient).update(created_at=day(-days_before_start))


def many_patients(count, *, therapist, medical_group, prefix="load"):
    """`count` patients of the therapist, each with a course, two doses, scores and an adverse event, in a few
    bulk inserts."""
    patients = Patient.objects.bulk_create(
        [
            Patient(
                first_name=f"P{n}",
                last_name=prefix,
                email=f"{prefix}{n}@example.test",
                date_of_birth=DAY0.date() - timedelta(days=365 * (20 + n % 50)),
                state=("CA", "NY", "TX", "IL")[n % 4],
                time_zone="America/Los_Angeles",
                stage="dosing",
                medical_group=medical_group,
                referred_by=therapist,
            )
            for n in range(count)
        ]
    )
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(patient=p, clinician=therapist, role="therapist", active_from=day(-30)) for p in patients]
    )
    Referral.objects.bulk_create([Referral(patient=p, reasons=["trd"]) for p in patients])
    courses = TreatmentCourse.objects.bulk_create([TreatmentCourse(patient=p, started_at=day(0)) for p in patients])
    TherapySession.objects.bulk_create(
        [
            TherapySession(
                course=c,
                patient_id=c.patient_id,
                kind="dosing",
                scheduled_at=day(on),
                therapist=therapist,
                created_by=therapist,
                status="completed",
                completed_at=day(on, 3),
                completed_by=therapist,
            )
            for c in courses
            for on in (10, 17)
        ]
    )
    QuestionnaireResponse.objects.bulk_create(
        [
            QuestionnaireResponse(
                patient=p, instrument=code, answers=[], total_score=total, entered_by=therapist, submitted_at=day(on)
            )
            for p in patients
            for code in ("phq9", "gad7")
            for on, total in ((5, 18), (12, 12), (19, 6))
        ]
    )
    AdverseEvent.objects.bulk_create(
        [
            AdverseEvent(course=c, patient_id=c.patient_id, reported_by=therapist, kind="nausea", severity="mild")
            for c in courses
        ]
    )
    return patients

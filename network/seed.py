"""The network's demo data (seed_demo): the course catalogue, the demo clinicians' verified KAP training, and a
peer consultation group with two past meetings (attendance recorded) and one de-identified case presentation.

Idempotent: skipped when the demo group exists. Built through the services, except that the past meetings are
created as they stand now (the scheduling service takes only future meetings)."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from .consultation import services as consultation_services
from .consultation.models import ConsultationGroup
from .training import services as training_services

GROUP_NAME = "Cascade peer consultation"
# Title, provider and date match the KAP training seed_demo already records for the demo clinicians.
KAP_COURSE = {
    "title": "KAP foundations",
    "provider": "KAP institute",
    "accrediting_body": "American Psychological Association",
    "ce_hours": Decimal("16.00"),
    "required_for": "clinician",
    "is_kap_training": True,
}
OTHER_COURSES = [
    ("Consent to touch and chaperoning", "KAP institute", "NBCC", "3.00", "therapist"),
    ("Ketamine prescribing and monitoring", "Cascade Medical Group", "ACCME", "4.00", "prescriber"),
    ("Music and setting in KAP sessions", "KAP institute", "NBCC", "2.00", ""),
]
DEMO_CERTIFICATE = b"%PDF-1.4\n% KAPCare demo certificate\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
SUMMARY = (
    "Client in their late thirties with recurrent depression, referred after two failed antidepressant trials. "
    "Partial response so far: PHQ-9 down by about a third by week 4. Integration keeps returning to grief and "
    "to a harsh inner critic. Question for the group: hold the dose and deepen integration, or ask the "
    "prescriber to titrate at the next follow-up?"
)


def seed_network_demo(*, coordinator, clinicians, facilitator, presenter, patient):
    """`clinicians` are the demo therapists and prescriber; `patient` is the presenter's demo patient."""
    if ConsultationGroup.objects.filter(name=GROUP_NAME).exists():
        return
    kap = training_services.course_create(actor=coordinator, **KAP_COURSE)
    for title, provider, body, hours, required_for in OTHER_COURSES:
        training_services.course_create(
            actor=coordinator,
            title=title,
            provider=provider,
            accrediting_body=body,
            ce_hours=Decimal(hours),
            required_for=required_for,
        )
    for clinician in clinicians:
        _trained(coordinator, clinician, kap)
    group = consultation_services.group_create(
        actor=coordinator, name=GROUP_NAME, facilitator=facilitator, members=clinicians
    )
    last = None
    for weeks_ago in (3, 1):
        last = _past_meeting(facilitator, group, weeks_ago)
        consultation_services.attendance_record(actor=facilitator, meeting=last, attendees=clinicians)
    consultation_services.meetings_schedule(
        actor=facilitator,
        group=group,
        starts_at=last.starts_at + timedelta(weeks=2),
        time_zone=last.time_zone,
        video_link=last.video_link,
        ce_hours=last.ce_hours,
        count=3,
        every_weeks=2,
    )
    consultation_services.presentation_create(
        actor=presenter,
        group=group,
        meeting=last,
        patient=patient,
        title="Partial responder: hold or titrate?",
        summary=SUMMARY,
    )


def _trained(coordinator, clinician, course):
    enrolment = training_services.enrolment_create(actor=clinician, course=course)
    certificate = SimpleUploadedFile("certificate.pdf", DEMO_CERTIFICATE, content_type="application/pdf")
    training_services.enrolment_complete(
        actor=clinician,
        enrolment=enrolment,
        completed_on=date(2024, 3, 1),
        certificate_number=f"KAPF-{str(clinician.pk)[:8].upper()}",
        certificate=certificate,
    )
    training_services.enrolment_verify(actor=coordinator, enrolment=enrolment)


def _past_meeting(facilitator, group, weeks_ago):
    """A fortnightly Tuesday-evening meeting (Pacific time) that took place `weeks_ago` weeks ago."""
    start = (timezone.now() - timedelta(weeks=weeks_ago)).replace(minute=0, second=0, microsecond=0)
    return consultation_services.meetings_create_past_for_demo(
        actor=facilitator,
        group=group,
        starts_at=start,
        time_zone="America/Los_Angeles",
        video_link="https://video.demo.kapcare.test/peer-consultation",
        ce_hours=Decimal("1.50"),
    )

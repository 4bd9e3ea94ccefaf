"""States of the network (training, peer consultation), built through the services as real use would."""

from datetime import timedelta
from decimal import Decimal

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from network.consultation import services as consultation_services
from network.training import services as training_services

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name="certificate.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def course(coordinator, *, title="KAP foundations", hours="12.00", kap=False, required_for=""):
    return training_services.course_create(
        actor=coordinator,
        title=title,
        provider="KAP Institute",
        accrediting_body="APA",
        ce_hours=Decimal(hours),
        required_for=required_for,
        is_kap_training=kap,
    )


def completed(clinician, course, *, on=None, number="CERT-001"):
    """`clinician` enrolled in `course` and recorded completion with a PDF certificate."""
    enrolment = training_services.enrolment_create(actor=clinician, course=course)
    return training_services.enrolment_complete(
        actor=clinician,
        enrolment=enrolment,
        completed_on=on or timezone.localdate() - timedelta(days=1),
        certificate_number=number,
        certificate=pdf(),
    )


def group(coordinator, facilitator, *members, name="Tuesday case consultation"):
    return consultation_services.group_create(actor=coordinator, name=name, facilitator=facilitator, members=members)


def meetings(facilitator, group, *, days_from_now=7, count=1, ce_hours="1.50", time_zone="America/Los_Angeles"):
    """Meetings scheduled `days_from_now` ahead (negative: scheduled back then, so they are now past)."""
    start = timezone.now() + timedelta(days=days_from_now)
    when = timezone.now() + timedelta(days=min(days_from_now, 0) - 1)
    with time_machine.travel(when, tick=False):
        return consultation_services.meetings_schedule(
            actor=facilitator,
            group=group,
            starts_at=start,
            time_zone=time_zone,
            video_link="https://video.example.test/peer",
            ce_hours=Decimal(ce_hours),
            count=count,
        )


def past_meeting(facilitator, group, days_ago=14, **kwargs):
    return meetings(facilitator, group, days_from_now=-days_ago, **kwargs)[0]

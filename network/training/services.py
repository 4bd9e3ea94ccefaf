"""Writes for training: the catalogue, enrolments, completions and their verification. Keyword-only, actor
first, atomic, audited. A verified completion of the network's KAP training records the clinician's KAP
training in kapcare.accounts (the fact credentials.py reads before a signature or a referral)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.accounts import services as account_services
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service

from .certificates import certificate_type
from .models import Course, Enrolment

ALREADY_VERIFIED = "enrolment_verified"
NOT_COMPLETED = "enrolment_not_completed"


def course_create(*, actor, **fields) -> Course:
    """A coordinator adds a course: title, provider, accrediting_body, ce_hours, required_for, is_kap_training."""
    access.require(actor, Permission.MANAGE_COURSES, object_type="network.course")
    course = Course(**fields)
    course.full_clean()
    with transaction.atomic():
        course.save()
        audit_record(actor, AuditEvent.Action.CREATE, course)
    return course


def enrolment_create(*, actor, course) -> Enrolment:
    """The actor (a therapist or a prescriber) enrols in an active course, once."""
    access.require(actor, Permission.ENROL_IN_COURSE, object_type="network.enrolment")
    if not course.active:
        raise ValidationError({"course": "This course is no longer offered."})
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(course=course, clinician=actor)
            audit_record(actor, AuditEvent.Action.CREATE, enrolment)
    except IntegrityError:
        raise ValidationError({"course": "You are already enrolled in this course."}) from None
    return enrolment


def _require_own_enrolment(*, actor, enrolment, **_arguments):
    if enrolment.clinician_id != actor.pk:
        audit_record(actor, AuditEvent.Action.UPDATE, enrolment, denied=True)
        raise PermissionDenied("Only the enrolled clinician records their completion.")


@service(Permission.ENROL_IN_COURSE, on="enrolment", before=_require_own_enrolment)
def enrolment_complete(*, actor, enrolment, completed_on, certificate_number: str, certificate) -> Enrolment:
    """The enrolled clinician records completion: the date, the certificate's number and the certificate file
    (PDF, PNG or JPEG by content, size-limited). Replaces an earlier unverified completion; a verified one is
    locked. `enrolment` comes from selectors.visible_enrolments."""
    errors = {}
    if completed_on is None:
        errors["completed_on"] = "Give the date you completed the course."
    elif completed_on > timezone.localdate():
        errors["completed_on"] = "The completion date cannot be in the future."
    certificate_number = (certificate_number or "").strip()
    if not certificate_number:
        errors["certificate_number"] = "Give the certificate's number."
    if errors:
        raise ValidationError(errors)
    mime, extension = certificate_type(certificate)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.verified_at:
        raise RuleRefused(
            "Rule “verified completions are final”: a coordinator verified this completion; it no longer changes.",
            ALREADY_VERIFIED,
        )
    previous = enrolment.certificate.name
    enrolment.completed_on = completed_on
    enrolment.certificate_number = certificate_number[:100]
    enrolment.certificate_type = mime
    enrolment.certificate.save(f"certificate.{extension}", certificate, save=False)
    enrolment.save()
    if previous:
        storage = enrolment.certificate.storage
        transaction.on_commit(lambda: storage.delete(previous))
    audit_record(
        actor, AuditEvent.Action.UPDATE, enrolment, fields=("completed_on", "certificate_number", "certificate")
    )
    return enrolment


@service(Permission.VERIFY_TRAINING, on="enrolment")
def enrolment_verify(*, actor, enrolment) -> Enrolment:
    """A coordinator verifies a completion against its certificate. For the network's KAP training this records
    the clinician's KAP training, so they may practise (kapcare.accounts.credentials)."""
    enrolment = Enrolment.objects.select_for_update().select_related("course", "clinician").get(pk=enrolment.pk)
    if enrolment.verified_at:
        raise RuleRefused("Rule “verified once”: this completion is already verified.", ALREADY_VERIFIED)
    if not enrolment.completed_on or not enrolment.certificate:
        raise RuleRefused(
            "Rule “completed with a certificate”: the clinician has not recorded completion with a certificate yet.",
            NOT_COMPLETED,
        )
    enrolment.verified_at = timezone.now()
    enrolment.verified_by = actor
    enrolment.save(update_fields=["verified_at", "verified_by"])
    audit_record(actor, AuditEvent.Action.UPDATE, enrolment, fields=("verified_at", "verified_by"))
    course = enrolment.course
    if course.is_kap_training:
        account_services.kap_training_record(
            actor=actor,
            clinician=enrolment.clinician,
            completed_on=enrolment.completed_on,
            provider=course.provider,
            title=course.title,
            certificate_number=enrolment.certificate_number,
        )
    return enrolment

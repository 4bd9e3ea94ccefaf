"""Courses, enrolments and completions: the continuing education a clinician's transcript adds up."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .storage import private_storage


class RequiredFor(models.TextChoices):
    NOBODY = "", "Elective"
    THERAPISTS = "therapist", "Therapists"
    PRESCRIBERS = "prescriber", "Prescribers"
    CLINICIANS = "clinician", "Therapists and prescribers"


class Course(models.Model):
    """A course in the network's catalogue. A course marked `is_kap_training` is the network's required KAP
    training: a verified completion records the clinician's KAP training, which signing and referral read."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    provider = models.CharField(max_length=200)
    accrediting_body = models.CharField(max_length=200, blank=True, help_text="Who accredits its CE hours.")
    ce_hours = models.DecimalField(
        "CE hours",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(200)],
    )
    required_for = models.CharField(max_length=20, choices=RequiredFor.choices, blank=True)
    is_kap_training = models.BooleanField(
        "counts as the network's KAP training", default=False, help_text="Completing it lets a clinician practise."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def is_required_of(self, role):
        return self.required_for == role or (self.required_for == RequiredFor.CLINICIANS and bool(role))


def certificate_path(enrolment, filename):
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"certificates/{enrolment.clinician_id}/{uuid.uuid4().hex}.{extension}"


class Enrolment(models.Model):
    """A clinician on a course; completed with a certificate number and file, then verified by a coordinator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrolments")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    enrolled_at = models.DateTimeField(auto_now_add=True)
    completed_on = models.DateField(null=True, blank=True)
    certificate_number = models.CharField(max_length=100, blank=True)
    certificate = models.FileField(storage=private_storage, upload_to=certificate_path, blank=True, max_length=200)
    certificate_type = models.CharField(max_length=40, blank=True, help_text="The MIME type found in the file.")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "clinician"], name="enrolment_once_per_course"),
            models.CheckConstraint(
                condition=Q(verified_at__isnull=True) | Q(completed_on__isnull=False),
                name="enrolment_verified_only_when_completed",
            ),
        ]

    def __str__(self):
        return f"{self.clinician} on {self.course}"

    @property
    def status(self):
        if self.verified_at:
            return "verified"
        return "completed" if self.completed_on else "enrolled"

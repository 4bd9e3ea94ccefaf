"""A copy of a patient's record made to leave KAPCare: the patient's own copy (right of access) or a release of
information to someone outside the care team. Built by a Celery task; fetched through a link whose token is
stored only as a hash and which expires. The row names its patient and derives its access from them."""

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RecordExport(models.Model):
    VALID_FOR = timedelta(hours=24)
    BUILD_TIMEOUT = timedelta(minutes=10)  # longer than the Celery task's hard time limit (5 minutes)

    class Purpose(models.TextChoices):
        PATIENT_ACCESS = "patient_access", "The patient's own copy"
        RELEASE = "release", "Release of information"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Could not be prepared"

    class Format(models.TextChoices):
        HTML = "html", "Readable page (HTML)"
        PDF = "pdf", "PDF document"
        JSON = "json", "Machine-readable (JSON)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="record_exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    # A release names who receives the record and why, and the signed authorization it relies on.
    recipient = models.CharField("recipient", max_length=300, blank=True, help_text="Name and organization.")
    release_purpose = models.CharField("purpose of the release", max_length=300, blank=True)
    authorization = models.ForeignKey(
        "patients.ConsentSignature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField("SHA-256 of the download token", max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # The documents, kept in the database with the rest of the record and emptied when the link expires.
    html = models.TextField(blank=True)
    json = models.JSONField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose="patient_access") | (~Q(recipient="") & Q(authorization__isnull=False)),
                name="record_export_release_names_recipient",
            ),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="record_export_patient_time")]

    def __str__(self):
        return f"{self.get_purpose_display()} of {self.patient_id} ({self.get_status_display()})"

    def is_expired(self, now=None):
        return self.expires_at <= (now or timezone.now())

    @property
    def is_ready(self):
        return self.status == self.Status.READY

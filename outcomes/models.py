"""The research export: a de-identified CSV of the network's courses with its data dictionary, built by a Celery
task and fetched through a link whose token is stored only as a hash and which expires (as records/ does).

`ResearchSubject` keeps, per patient, the random study id and the secret date shift: the same patient keeps the
same study id across exports (so later exports extend earlier ones), and only the database knows the shift. It is
never shown in a page, the API or the admin."""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

MAX_SHIFT_DAYS = 182


def new_study_id():
    return f"S-{secrets.token_hex(6).upper()}"


def new_date_shift():
    """A random non-zero shift of at most half a year either way."""
    days = secrets.randbelow(2 * MAX_SHIFT_DAYS) - MAX_SHIFT_DAYS  # -182 .. 181
    return days + 1 if days >= 0 else days  # -182 .. -1, 1 .. 182


class ResearchSubject(models.Model):
    patient = models.OneToOneField("patients.Patient", on_delete=models.PROTECT, related_name="+")
    study_id = models.CharField(max_length=16, unique=True, default=new_study_id)
    date_shift_days = models.SmallIntegerField(default=new_date_shift)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.study_id


class ResearchExport(models.Model):
    VALID_FOR = timedelta(hours=24)
    MIN_CELL = 11  # no value of a quasi-identifier describing fewer patients is released

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready to download"
        FAILED = "failed", "Could not be prepared"

    class File(models.TextChoices):
        DATA = "data", "Data (CSV)"
        DICTIONARY = "dictionary", "Data dictionary (CSV)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filters = models.JSONField(default=dict, help_text="The outcomes filters: ids and dates only.")
    token_hash = models.CharField("SHA-256 of the download token", max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    patient_count = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    data_csv = models.TextField(blank=True)
    dictionary_csv = models.TextField(blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Research export {self.created_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    def is_expired(self, now=None):
        return self.expires_at <= (now or timezone.now())

    @property
    def is_ready(self):
        return self.status == self.Status.READY

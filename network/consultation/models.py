"""Peer consultation groups: who meets, when, who attended (CE hours), and de-identified case presentations.

A Presentation has no link to a patient, by construction: it holds what the presenter wrote and values computed
once from the record (age band, scores by week since baseline, the dose plan's numbers), nothing to join back."""

import uuid
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from patients.models import validate_time_zone


class ConsultationGroup(models.Model):
    """A peer consultation group of the medical group's network: a facilitator and members."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    medical_group = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    facilitator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="GroupMembership", related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class GroupMembership(models.Model):
    group = models.ForeignKey(ConsultationGroup, on_delete=models.CASCADE, related_name="memberships")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "clinician"], name="group_membership_once")]

    def __str__(self):
        return f"{self.clinician} in {self.group}"


class Meeting(models.Model):
    """One meeting of a group, at a moment in a time zone, by video; attending earns `ce_hours`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(ConsultationGroup, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(15), MaxValueValidator(480)]
    )
    video_link = models.URLField(max_length=500)
    ce_hours = models.DecimalField(
        "CE hours", max_digits=4, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(8)]
    )
    series = models.UUIDField(default=uuid.uuid4, help_text="Meetings scheduled together as one recurring series.")

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["group", "starts_at"], name="meeting_group_start")]

    def __str__(self):
        return f"{self.group} on {self.local_start:%Y-%m-%d %H:%M} ({self.time_zone})"

    @property
    def local_start(self):
        return self.starts_at.astimezone(zoneinfo.ZoneInfo(self.time_zone))


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "clinician"], name="attendance_once")]

    def __str__(self):
        return f"{self.clinician} at {self.meeting}"


class Presentation(models.Model):
    """A case presented to a group. De-identified by construction: no patient key, no copied record text.

    `scores`: [{"instrument": "phq9", "week": 0, "score": 18}, ...], weeks since that instrument's baseline.
    `dose_plan`: the signed plan's numbers ({"route": ..., "full_dose_mg": ...}), without names or instructions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(ConsultationGroup, on_delete=models.CASCADE, related_name="presentations")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="presentations")
    presenter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=5000)
    age_band = models.CharField(max_length=20)
    scores = models.JSONField(default=list, blank=True)
    dose_plan = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

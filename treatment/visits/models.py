"""Prescriber visits as appointments, the weekly hours clinicians keep (in their own time zone) with the dates
that differ, and the private calendar feeds.

A visit is booked on a clinician's schedule row locked FOR UPDATE (visits.services), and the database keeps
two booked visits off one start (`visit_one_booking_per_start`), so two patients racing for a slot cannot
both win. Times are stored in UTC; weekly hours are wall-clock times in the schedule's zone, turned into
instants date by date so a daylight-saving change moves nothing a person sees.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from kapcare.us_states import USState
from patients.models import validate_time_zone

__all__ = ["CalendarFeed", "DateHours", "Schedule", "SessionHoursException", "TimeOff", "Visit", "WeeklyHours"]


class Schedule(models.Model):
    """A clinician's calendar settings: their time zone, how long a visit lasts, where and how they see patients."""

    clinician = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule")
    time_zone = models.CharField(max_length=64, default="America/Los_Angeles", validators=[validate_time_zone])
    evaluation_minutes = models.PositiveSmallIntegerField("evaluation visit (minutes)", default=60)
    follow_up_minutes = models.PositiveSmallIntegerField("follow-up visit (minutes)", default=30)
    location = models.CharField("office address", max_length=300, blank=True)
    video_link = models.URLField("video room link", max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Schedule of {self.clinician}"


class WeeklyHours(models.Model):
    """One stretch of the week a clinician works, in the schedule's time zone (e.g. Monday 09:00-12:00)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="hours_in_order",
                violation_error_message="The end time must be after the start time.",
            )
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class DateHours(models.Model):
    """A date whose hours replace the weekly ones: extra hours, or (no times) the whole day off."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="date_hours")
    on = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["on", "start_time"]

    def __str__(self):
        if self.start_time is None:
            return f"{self.on}: off"
        return f"{self.on}: {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self):
        if (self.start_time is None) != (self.end_time is None):
            raise ValidationError("Give both times, or neither for a day off.")
        if self.start_time is not None and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The hours end after they start."})


class TimeOff(models.Model):
    """A stretch away (leave, a conference): no visit is offered inside it."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="time_off_in_order",
                violation_error_message="Time off must end after it starts.",
            )
        ]

    def __str__(self):
        return f"Time off {self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d}"


class Visit(models.Model):
    """A prescriber visit booked on their schedule: the evaluation or a follow-up."""

    class Kind(models.TextChoices):
        EVALUATION = "evaluation", "Evaluation"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Encounter(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visits")
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    follow_up = models.ForeignKey(
        "treatment.FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    encounter = models.CharField(max_length=10, choices=Encounter.choices, default=Encounter.VIDEO)
    video_link = models.URLField(max_length=500, blank=True)
    location = models.CharField(max_length=300, blank=True)
    patient_state = models.CharField(
        "the patient's state at the visit", max_length=2, choices=USState.choices, help_text="For licensure."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prescriber", "starts_at"], condition=Q(status="booked"), name="visit_one_booking_per_start"
            ),
            models.UniqueConstraint(
                fields=["follow_up"], condition=Q(status="booked"), name="visit_one_booking_per_follow_up"
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="booked", kind="evaluation"),
                name="visit_one_booked_evaluation",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="visit_in_order"),
        ]
        indexes = [models.Index(fields=["prescriber", "starts_at"], name="visit_prescriber_start")]

    def __str__(self):
        return f"{self.get_kind_display()} visit {self.pk}"

    @property
    def duration(self) -> datetime.timedelta:
        return self.ends_at - self.starts_at


class SessionHoursException(models.Model):
    """A session booked outside the clinician's working hours or the policy's dosing hours, and why."""

    session = models.OneToOneField("treatment.TherapySession", on_delete=models.PROTECT, related_name="hours_exception")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    outside = models.CharField("outside what", max_length=300)
    reason = models.TextField(max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Hours exception of {self.session_id}"


class CalendarFeed(models.Model):
    """A person's private iCal feed. Only the SHA-256 of the secret is kept: the address is shown once, and
    revoking (or making a new one) ends the old address."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Calendar feed of {self.owner_id}"

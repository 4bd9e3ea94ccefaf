"""Reads for training: the catalogue, enrolments through kapcare.access, and a clinician's transcript."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from kapcare import access

from ..consultation.models import Attendance
from .models import Course, Enrolment


def active_courses():
    return Course.objects.filter(active=True)


def courses(user):
    """The catalogue: active courses, for whoever may view training (the role is checked by the caller)."""
    return active_courses()


def visible_enrolments(user):
    """Enrolments of the clinicians the user may see: their own, or their medical group's for a coordinator."""
    return access.of_visible_clinicians(user, Enrolment.objects.select_related("course", "clinician", "verified_by"))


@dataclass
class Period:
    year: int
    course_hours: Decimal = Decimal(0)
    consultation_hours: Decimal = Decimal(0)
    target: int = 0

    @property
    def total(self):
        return self.course_hours + self.consultation_hours

    @property
    def missing_hours(self):
        return max(Decimal(self.target) - self.total, Decimal(0))


@dataclass
class Transcript:
    clinician: object
    periods: list = field(default_factory=list)  # Period per calendar year, newest first
    entries: list = field(default_factory=list)  # (date, what, CE hours, status), newest first
    required: list = field(default_factory=list)  # (course, enrolment or None) per course required of the role

    @property
    def missing(self):
        """Required courses not yet completed and verified."""
        return [course for course, enrolment in self.required if not (enrolment and enrolment.verified_at)]


def transcript(clinician, today=None) -> Transcript:
    """CE hours per calendar year (verified course completions on their completion date, attended consultation
    meetings on their local date), the courses required of the clinician's role and which are missing.
    `clinician` comes from access.visible_clinicians."""
    today = today or timezone.localdate()
    result = Transcript(clinician=clinician)
    enrolments = list(Enrolment.objects.filter(clinician=clinician).select_related("course"))
    by_course = {enrolment.course_id: enrolment for enrolment in enrolments}
    periods = {}

    def period(year):
        return periods.setdefault(year, Period(year=year, target=settings.NETWORK_CE_HOURS_PER_YEAR))

    for enrolment in enrolments:
        if enrolment.completed_on:
            status = "verified" if enrolment.verified_at else "awaiting verification"
            result.entries.append((enrolment.completed_on, enrolment.course.title, enrolment.course.ce_hours, status))
            if enrolment.verified_at:
                period(enrolment.completed_on.year).course_hours += enrolment.course.ce_hours
    attended = Attendance.objects.filter(clinician=clinician).select_related("meeting__group")
    for attendance in attended:
        meeting = attendance.meeting
        day = meeting.local_start.date()
        result.entries.append((day, f"Peer consultation: {meeting.group.name}", meeting.ce_hours, "attended"))
        period(day.year).consultation_hours += meeting.ce_hours
    period(today.year)
    result.periods = sorted(periods.values(), key=lambda p: p.year, reverse=True)
    result.entries.sort(key=lambda entry: entry[0], reverse=True)
    result.required = [
        (course, by_course.get(course.pk)) for course in active_courses() if course.is_required_of(clinician.role)
    ]
    return result

"""Writes for peer consultation: groups, recurring meetings, attendance and de-identified case presentations.
Keyword-only, actor first, atomic, audited."""

import uuid
import zoneinfo
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from patients.models import known_time_zones

from . import deidentify
from .models import Attendance, ConsultationGroup, GroupMembership, Meeting, Presentation

MEETING_NOT_STARTED = "meeting_not_started"
MAX_MEETINGS_IN_SERIES = 52


@service(Permission.MANAGE_CONSULTATION_GROUPS, object_type="network.consultationgroup")
def group_create(*, actor, name: str, facilitator, members) -> ConsultationGroup:
    """A coordinator forms a group of their medical group's clinicians, one of whom facilitates."""
    name = (name or "").strip()
    allowed = set(access.visible_clinicians(actor).values_list("pk", flat=True))
    people = {facilitator, *members}
    errors = {}
    if not name:
        errors["name"] = "Name the group."
    if any(person.pk not in allowed for person in people):
        errors["members"] = "Members and the facilitator must be clinicians of your medical group's network."
    if errors:
        raise ValidationError(errors)
    group = ConsultationGroup.objects.create(
        name=name[:200], medical_group_id=actor.organization_id, facilitator=facilitator, created_by=actor
    )
    GroupMembership.objects.bulk_create(GroupMembership(group=group, clinician=person) for person in people)
    audit_record(actor, AuditEvent.Action.CREATE, group)
    return group


def _require_facilitator(*, actor, group, **_arguments):
    access.require_facilitator(actor, group)


@service(Permission.VIEW_CONSULTATION, on="group", before=_require_facilitator)
def meetings_schedule(
    *, actor, group, starts_at, time_zone: str, video_link: str, ce_hours, duration_minutes=60, count=1, every_weeks=1
) -> list[Meeting]:
    """The facilitator schedules `count` meetings, `every_weeks` apart at the same local time in `time_zone`
    (the wall clock stays put across daylight-saving changes). The first must be in the future; a `starts_at`
    without an offset is a time in `time_zone`."""
    errors = {}
    if time_zone not in known_time_zones():
        errors["time_zone"] = "Choose a time zone, such as America/New_York."
    if not (video_link or "").startswith("https://"):
        errors["video_link"] = "Give the meeting's video link (https://...)."
    if not 1 <= count <= MAX_MEETINGS_IN_SERIES:
        errors["count"] = f"Schedule 1 to {MAX_MEETINGS_IN_SERIES} meetings at a time."
    if not 1 <= every_weeks <= 8:
        errors["every_weeks"] = "Meetings recur every 1 to 8 weeks."
    if errors:
        raise ValidationError(errors)
    zone = zoneinfo.ZoneInfo(time_zone)
    if timezone.is_naive(starts_at):  # a wall-clock time is the meeting's own local time
        starts_at = starts_at.replace(tzinfo=zone)
    if starts_at <= timezone.now():
        raise ValidationError({"starts_at": "The first meeting must be in the future."})
    local = starts_at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    starts = [(local + timedelta(weeks=every_weeks * n)).replace(tzinfo=zone) for n in range(count)]
    return _meetings_create(actor, group, starts, time_zone, video_link, ce_hours, duration_minutes)


def _meetings_create(actor, group, starts, time_zone, video_link, ce_hours, duration_minutes):
    series = uuid.uuid4()
    meetings = [
        Meeting(
            group=group,
            starts_at=start,
            time_zone=time_zone,
            video_link=video_link,
            ce_hours=ce_hours,
            duration_minutes=duration_minutes,
            series=series,
        )
        for start in starts
    ]
    meetings[0].full_clean(exclude=["group"])
    Meeting.objects.bulk_create(meetings)
    for meeting in meetings:
        audit_record(actor, AuditEvent.Action.CREATE, meeting)
    return meetings


@transaction.atomic
def meetings_create_past_for_demo(*, actor, group, starts_at, time_zone, video_link, ce_hours) -> Meeting:
    """Demo data only (network.seed): a meeting that already took place. Real meetings are scheduled ahead."""
    return _meetings_create(actor, group, [starts_at], time_zone, video_link, ce_hours, 60)[0]


def _require_meeting_facilitator(*, actor, meeting, **_arguments):
    access.require_facilitator(actor, meeting.group, meeting)


@service(Permission.VIEW_CONSULTATION, on="meeting", before=_require_meeting_facilitator)
def attendance_record(*, actor, meeting, attendees) -> list[Attendance]:
    """The facilitator records who attended a meeting that has started: exactly `attendees` (members of the
    group), so recording again corrects the list. Each attendance earns the meeting's CE hours."""
    if meeting.starts_at > timezone.now():
        raise RuleRefused(
            "Rule “attendance after the meeting starts”: this meeting has not started yet.", MEETING_NOT_STARTED
        )
    members = set(meeting.group.memberships.values_list("clinician_id", flat=True))
    wanted = {person.pk for person in attendees}
    if wanted - members:
        raise ValidationError({"attendees": "Only the group's members can be recorded as attending."})
    existing = {row.clinician_id: row for row in meeting.attendance.all()}
    for clinician_id in set(existing) - wanted:
        audit_record(actor, AuditEvent.Action.DELETE, existing[clinician_id])
        existing[clinician_id].delete()
    for clinician_id in wanted - set(existing):
        row = Attendance.objects.create(meeting=meeting, clinician_id=clinician_id, recorded_by=actor)
        audit_record(actor, AuditEvent.Action.CREATE, row)
    return list(meeting.attendance.all())


def _require_patient_access(*, actor, patient, include_scores, include_dose_plan, **_arguments):
    """The presenter reads the patient's record: its values are refused (and audited) unless they may."""
    access.require(actor, Permission.VIEW_PATIENT, patient)
    if include_scores:
        access.require(actor, Permission.VIEW_QUESTIONNAIRES, patient)
    if include_dose_plan:
        access.require(actor, Permission.VIEW_DOSE_PLAN, patient)


@service(Permission.PRESENT_CASE, on="group", before=_require_patient_access)
def presentation_create(
    *, actor, group, patient, title: str, summary: str, meeting=None, include_scores=True, include_dose_plan=True
) -> Presentation:
    """A clinician of the group presents a case. `patient` comes from the presenter's own access
    (access.visible_patients); the presentation keeps only the presenter's words and de-identified values,
    never a link to the patient. The words are refused if they name, date or copy the record."""
    title, summary = (title or "").strip(), (summary or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the presentation a title."
    if not summary:
        errors["summary"] = "Write the case summary the group will read."
    if meeting is not None and meeting.group_id != group.pk:
        errors["meeting"] = "Choose a meeting of this group."
    if errors:
        raise ValidationError(errors)
    deidentify.check_free_text(title, patient, field="title")
    deidentify.check_free_text(summary, patient, field="summary")
    presentation = Presentation.objects.create(
        group=group,
        meeting=meeting,
        presenter=actor,
        title=title[:200],
        summary=summary[:5000],
        age_band=deidentify.age_band(patient.date_of_birth, timezone.localdate()),
        scores=deidentify.score_series(patient) if include_scores else [],
        dose_plan=deidentify.dose_plan_numbers(patient) if include_dose_plan else {},
    )
    # The patient's access history shows that their record was read to make a presentation; the
    # presentation's own audit row names no patient (it has none).
    audit_record(actor, AuditEvent.Action.READ, patient, fields=("date_of_birth", "questionnaires", "dose_plan"))
    audit_record(actor, AuditEvent.Action.CREATE, presentation)
    return presentation

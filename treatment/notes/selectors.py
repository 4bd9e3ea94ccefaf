"""Reads of session documentation: progress notes and their addenda, psychotherapy notes and integration
summaries. Every one starts from kapcare.access. Psychotherapy notes are reached only through
`visible_psychotherapy_notes` below (their author's own), so nothing listed here can show one to anybody
else: an export or search of a patient's documentation must go through `patient_documentation`."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from patients.access import visible_patients
from treatment.course.models import FollowUp
from treatment.notes.models import IntegrationSummary, PsychotherapyNote, SessionNote, SessionNoteAddendum
from treatment.sessions.models import DosingRecord, TherapySession, VitalsReading

PSYCHOTHERAPY_NOTE_NOTICE = (
    "Only you can ever read this psychotherapy note. It is not part of the chart: the prescriber, the "
    "coordinator, the patient, administrators and other therapists cannot see it, and it is never shared "
    "or exported."
)


def visible_psychotherapy_notes(user):
    """The only door to psychotherapy notes: the user's own, on patients they can still see. Nobody else,
    whatever their role (prescriber, coordinator, administrator, the patient, another therapist), reads one."""
    if not access.can(user, Permission.WRITE_PSYCHOTHERAPY_NOTE):
        return PsychotherapyNote.objects.none()
    return PsychotherapyNote.objects.filter(author=user, patient__in=visible_patients(user))


def visible_session_notes(user):
    return (
        SessionNote.objects.filter(patient__in=visible_patients(user))
        .select_related("author", "session")
        .order_by("created_at", "id")
    )


def visible_addenda(user):
    return SessionNoteAddendum.objects.filter(patient__in=visible_patients(user)).select_related("author")


def visible_integration_summaries(user):
    return IntegrationSummary.objects.filter(patient__in=visible_patients(user)).select_related("author", "session")


# What a session needs before its note can be signed ------------------------------------------------------

END_CRITERIA = (
    ("alert_and_oriented", "alert and oriented"),
    ("vitals_near_baseline", "vitals back near baseline"),
    ("safe_transport", "safe transport home"),
)


def documentation_missing(session) -> list[str]:
    """What a dosing session's record still lacks before its note can be signed, in words; [] when complete
    (and always for preparation and integration sessions)."""
    did_not_happen = (TherapySession.Status.CANCELLED, TherapySession.Status.NO_SHOW)
    if session.kind != TherapySession.Kind.DOSING or session.status in did_not_happen:
        return []
    record = DosingRecord.objects.filter(session=session).first()
    readings = list(VitalsReading.objects.filter(session=session).values_list("phase", "taken_at"))
    missing = []
    if not any(phase == VitalsReading.Phase.PRE_DOSE for phase, _ in readings):
        missing.append("pre-dose vitals")
    if record is None or not record.dose_taken:
        missing.append("the dose taken (mg and time)")
    dosed_at = record.dose_taken_at if record is not None and record.dose_taken else None
    if not any(phase == VitalsReading.Phase.END and dosed_at and at > dosed_at for phase, at in readings):
        missing.append("end-of-session vitals (taken after the dose)")
    if record is None or record.ended_at is None:
        missing.append("the time the session ended")
    unmet = [label for name, label in END_CRITERIA if record is None or not getattr(record, name)]
    if unmet:
        missing.append("the end-of-session criteria (" + ", ".join(unmet) + ")")
    return missing


# The notes part of a session page -------------------------------------------------------------------------


@dataclass
class SessionNotes:
    """What templates/treatment/_session_notes.html shows this user about one session's documentation."""

    session: TherapySession
    note: SessionNote | None = None
    addenda: list = field(default_factory=list)
    can_read: bool = False  # the progress note's body and addenda
    can_write: bool = False  # draft, sign, addenda, integration summary
    can_keep_psychotherapy_note: bool = False
    psychotherapy_note: object = None  # the user's own, never anybody else's
    summary: IntegrationSummary | None = None
    summary_addenda: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    psychotherapy_notice: str = PSYCHOTHERAPY_NOTE_NOTICE

    @property
    def patient(self):
        return self.session.patient

    @property
    def is_signed(self):
        return self.note is not None and self.note.is_signed

    @property
    def state(self):
        return documentation_state(self.note)

    @property
    def is_integration(self):
        return self.session.kind == TherapySession.Kind.INTEGRATION

    @property
    def summary_is_signed(self):
        return self.summary is not None and self.summary.is_signed


def documentation_state(note) -> str:
    if note is None:
        return "No note yet"
    return "Note signed" if note.is_signed else "Note drafted, not signed"


def note_context(user, session) -> dict:
    """Template context for the notes part of a session page. `session` must come from a visible_* queryset.
    Reads of the note, the summary and the user's own psychotherapy note are audited (ids only)."""
    if not access.can(user, Permission.VIEW_DOCUMENTATION_STATE):
        return {}
    can_read = access.can(user, Permission.VIEW_SESSION_NOTE)
    note = visible_session_notes(user).filter(session=session).first()
    notes = SessionNotes(session=session, note=note, can_read=can_read)
    if can_read:
        notes.can_write = access.can(user, Permission.WRITE_SESSION_NOTE)
        if note is not None:
            notes.addenda = list(visible_addenda(user).filter(note=note).order_by("signed_at", "id"))
            audit_record(user, AuditEvent.Action.READ, note)
        notes.summary = integration_summary_for(user, session)
        if notes.summary is not None and notes.summary.is_signed:
            notes.summary_addenda = list(notes.summary.addenda.select_related("author").order_by("signed_at", "id"))
        if notes.can_write and not notes.is_signed:
            notes.missing = documentation_missing(session)
    if access.can(user, Permission.WRITE_PSYCHOTHERAPY_NOTE):
        notes.can_keep_psychotherapy_note = True
        notes.psychotherapy_note = visible_psychotherapy_notes(user).filter(session=session).first()
        if notes.psychotherapy_note is not None:
            audit_record(user, AuditEvent.Action.READ, notes.psychotherapy_note)
    return {"session_notes": notes}


def integration_summary_for(user, session):
    """The integration session's summary, for the clinicians on the team (audited), or None."""
    if not access.can(user, Permission.VIEW_SESSION_NOTE):
        return None
    summary = visible_integration_summaries(user).filter(session=session).first()
    if summary is not None:
        audit_record(user, AuditEvent.Action.READ, summary)
    return summary


def patient_documentation(user, patient) -> dict:
    """A patient's session documentation as this user may read it: progress notes with addenda and integration
    summaries, never a psychotherapy note. Any export or search of documentation goes through here. Audited."""
    if not access.can(user, Permission.VIEW_SESSION_NOTE):
        return {"notes": [], "summaries": []}
    notes = list(visible_session_notes(user).filter(patient=patient).prefetch_related("addenda__author"))
    summaries = list(visible_integration_summaries(user).filter(patient=patient))
    audit_record_many(user, AuditEvent.Action.LIST, [*notes, *summaries])
    return {"notes": notes, "summaries": summaries}


# The chart's session list and the dashboards -----------------------------------------------------------------


def attach_documentation_state(user, sessions) -> None:
    """Set `documentation` on each session: its note's state in words for a completed session or one with a note,
    else None (and None for a user who may not see it). One query whatever the number of sessions."""
    if not access.can(user, Permission.VIEW_DOCUMENTATION_STATE):
        for session in sessions:
            session.documentation = None
        return
    ids = [session.pk for session in sessions]
    rows = SessionNote.objects.filter(session_id__in=ids).only("session_id", "status") if ids else []
    notes = {note.session_id: note for note in rows}
    for session in sessions:
        note = notes.get(session.pk)
        session.documentation = (
            documentation_state(note) if session.status == TherapySession.Status.COMPLETED or note else None
        )
        session.documentation_signed = note is not None and note.is_signed


def session_has_note(session) -> bool:
    """Whether the session has a progress note yet (a draft counts)."""
    return SessionNote.objects.filter(session=session).exists()


def session_has_summary(session) -> bool:
    """Whether the integration session has a summary yet."""
    return IntegrationSummary.objects.filter(session=session).exists()


def documented_session_ids(session_ids) -> set:
    """Which of these sessions have a signed progress note (for the prescriber's follow-up review). One query."""
    return set(
        SessionNote.objects.signed().filter(session_id__in=list(session_ids)).values_list("session_id", flat=True)
    )


def _undocumented_sessions(patients):
    """Completed sessions of these patients whose progress note is not signed (none, or a draft)."""
    return (
        TherapySession.objects.filter(patient__in=patients)
        .completed()
        .filter(Q(note__isnull=True) | Q(note__status=SessionNote.Status.DRAFT))
        .select_related("patient", "note")
    )


def unsigned_notes(user, *, limit=50) -> list[TherapySession]:
    """The therapist's sessions awaiting a signed note: completed without one, or with a draft. One query."""
    if not access.can(user, Permission.WRITE_SESSION_NOTE):
        return []
    return list(sessions_with_unsigned_notes(visible_patients(user))[:limit])


def sessions_with_unsigned_notes(patients):
    """unsigned_notes for a queryset of patients (or a list of their ids), as a queryset."""
    draft = Q(note__status=SessionNote.Status.DRAFT)
    sessions = TherapySession.objects.filter(patient__in=patients).filter(
        draft | Q(status=TherapySession.Status.COMPLETED, note__isnull=True)
    )
    return sessions.select_related("patient", "note").order_by("scheduled_at", "id")


@dataclass(frozen=True)
class MissingBeforeFollowUp:
    session: TherapySession
    patient: object
    follow_up_due_on: date
    days_until: int


def missing_before_follow_up(user, *, today=None, limit=50) -> list[MissingBeforeFollowUp]:
    """Completed sessions without a signed note in courses whose next follow-up visit is pending, soonest
    visit first: what the prescriber will ask the therapist for. One query."""
    if not access.can(user, Permission.VIEW_SESSION_NOTE):
        return []
    return missing_before_follow_up_among(visible_patients(user), today=today, limit=limit)


def missing_before_follow_up_among(patients, *, today=None, limit=None) -> list[MissingBeforeFollowUp]:
    """missing_before_follow_up for a queryset of patients (or a list of their ids)."""
    today = today or timezone.localdate()
    due_on = FollowUp.objects.pending().filter(course=OuterRef("course")).values("due_on")[:1]
    rows = (
        _undocumented_sessions(patients)
        .filter(course__ended_at__isnull=True)
        .annotate(follow_up_due_on=Subquery(due_on))
        .filter(follow_up_due_on__isnull=False)
        .order_by("follow_up_due_on", "scheduled_at", "id")[:limit]
    )
    return [
        MissingBeforeFollowUp(
            session=row,
            patient=row.patient,
            follow_up_due_on=row.follow_up_due_on,
            days_until=(row.follow_up_due_on - today).days,
        )
        for row in rows
    ]

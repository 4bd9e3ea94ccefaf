"""Writes of session documentation. Keyword-only, actor first, atomic, audited (ids only, never note text).

A progress note is drafted, then signed and locked with a content hash; corrections are signed addenda. A
dosing session's note is signed only once its record is complete (note_selectors.documentation_missing).
Signing freezes the session's records: database triggers (migration 0006) refuse any later change, and these
services check first so the refusal is a sentence (RuleRefused, 409), never a database error.
`session` arguments come from a kapcare.access-scoped queryset; permission is checked before the transaction
opens, so the audit row of a refusal is not rolled back.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone

from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from kapcare.signing.services import record_addendum, record_locked, record_sign
from patients.due_work import keeps_due_work
from treatment.notes.models import (
    IntegrationSummary,
    IntegrationSummaryAddendum,
    PsychotherapyNote,
    SessionNote,
    SessionNoteAddendum,
)
from treatment.notes.selectors import documentation_missing, visible_psychotherapy_notes
from treatment.sessions.models import BoosterDose, ChaperoneCheckIn, DosingRecord, TherapySession, VitalsReading

NOTE_LIMIT = 20000
ADDENDUM_LIMIT = 10000
SUMMARY_FIELDS = IntegrationSummary.CONTENT_FIELDS
SUMMARY_LIMIT = 5000


def note_locked(note) -> RuleRefused:
    signed = timezone.localtime(note.signed_at)
    return RuleRefused(
        f"This session's note was signed on {signed:%b} {signed.day}, {signed.year} and is locked: a signed note "
        "never changes. Add a signed addendum instead.",
        code="session_note_signed",
    )


def session_documentation_locked(session) -> RuleRefused | None:
    """The refusal to give when the session's note is signed (its records are frozen), else None."""
    note = SessionNote.objects.filter(session=session, status=SessionNote.Status.SIGNED).first()
    return note_locked(note) if note is not None else None


def _lock_session(session):
    """One documentation write at a time per session (the note is one per session)."""
    return TherapySession.objects.select_for_update().get(pk=session.pk)


def _clean_text(text, *, field, limit, required_message=None):
    text = (text or "").strip()
    if required_message and not text:
        raise ValidationError({field: required_message})
    if len(text) > limit:
        raise ValidationError({field: f"Keep this under {limit:,} characters."})
    return text


# The progress note ----------------------------------------------------------------------------------------


@service(Permission.WRITE_SESSION_NOTE, on="session")
@keeps_due_work
def note_save_draft(*, actor, session, body: str) -> SessionNote:
    """Write the session's progress note as a draft (created on first save). Refused once it is signed."""
    body = _clean_text(body, field="body", limit=NOTE_LIMIT)
    session = _lock_session(session)
    note = SessionNote.objects.filter(session=session).first()
    if note is not None and note.is_signed:
        raise note_locked(note)
    if note is None:
        note = SessionNote.objects.create(session=session, patient_id=session.patient_id, author=actor, body=body)
        audit_record(actor, AuditEvent.Action.CREATE, note)
        return note
    note.body = body
    note.author = actor
    note.save(update_fields=["body", "author", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, note)
    return note


def note_missing(session, note) -> dict:
    """What stops the note being signed, as field errors: the note's text and, for a dosing session, each
    part of the dosing record still missing (in words)."""
    missing = {}
    if note is None or not note.body.strip():
        missing["body"] = "Write the progress note before signing it."
    record = documentation_missing(session)
    if record:
        missing["documentation"] = [f"Record {item} before signing this dosing session's note." for item in record]
    return missing


@service(Permission.WRITE_SESSION_NOTE, on="session")
@keeps_due_work
def note_sign(*, actor, session) -> SessionNote:
    """Sign and lock the session's progress note with a hash of its text and the session's record. Refused
    (ValidationError naming each missing part) until it is written and, for a dosing session, the pre-dose
    vitals, the dose, the end-of-session vitals, the end time and the end criteria are recorded. An integration
    session's draft summary is signed with the note (the note's signature covers it), once it can be."""
    session = _lock_session(session)
    note = SessionNote.objects.filter(session=session).first()
    if note is not None and note.is_signed:
        raise note_locked(note)
    if session.status == TherapySession.Status.SCHEDULED and session.scheduled_at > timezone.now():
        raise RuleRefused(
            "This session has not started yet: its note is signed once the session has taken place.",
            code="session_not_started",
        )
    summary = IntegrationSummary.objects.select_for_update().filter(session=session).first()
    summary = summary if summary is not None and not summary.is_signed else None
    missing = note_missing(session, note)
    summary_missing = integration_summary_missing(summary) if summary is not None else {}
    if summary_missing:
        missing["integration_summary"] = [f"Integration summary: {message}" for message in summary_missing.values()]
    if missing:
        raise ValidationError(missing)
    at = timezone.now()
    if summary is not None:  # the note's signature covers the summary: it is signed with it
        record_sign(summary, actor=actor, at=at)
    note.author = actor
    return record_sign(note, actor=actor, at=at, content=signed_content(note, session))


def signed_content(note, session) -> dict:
    """What the signature covers: the note, and the session's record it attests (frozen from then on)."""
    content = {field: getattr(note, field) for field in SessionNote.CONTENT_FIELDS}
    content.update(
        session=str(session.pk),
        patient=str(session.patient_id),
        kind=session.kind,
        scheduled_at=session.scheduled_at,
        author=note.author_id,
    )
    if session.kind == TherapySession.Kind.DOSING:
        content["dosing"] = (
            DosingRecord.objects.filter(session=session)
            .values(
                "dose_mg",
                "dose_taken_at",
                "ended_at",
                "alert_and_oriented",
                "vitals_near_baseline",
                "safe_transport",
            )
            .first()
        )
        content["vitals"] = list(
            VitalsReading.objects.filter(session=session).values_list(
                "phase", "systolic", "diastolic", "pulse", "spo2", "taken_at"
            )
        )
        content["boosters"] = list(BoosterDose.objects.filter(session=session).values_list("dose_mg", "taken_at"))
        content["check_ins"] = list(
            ChaperoneCheckIn.objects.filter(session=session).values_list("checked_at", "patient_ok")
        )
    summary = IntegrationSummary.objects.filter(session=session).values(*SUMMARY_FIELDS).first()
    if summary is not None:
        content["integration_summary"] = summary
    return content


@service(Permission.WRITE_SESSION_NOTE, on="note")
def note_add_addendum(*, actor, note, body: str) -> SessionNoteAddendum:
    """A signed correction or addition to a signed progress note, by the therapist on the care team."""
    body = _clean_text(body, field="body", limit=ADDENDUM_LIMIT, required_message="Write the addendum.")
    unsigned = RuleRefused(
        "Addenda are for signed notes: this one is still a draft, so change it directly.",
        code="session_note_not_signed",
    )
    return record_addendum(
        note,
        SessionNoteAddendum,
        actor=actor,
        link="note",
        unsigned=unsigned,
        text={"body": body},
        patient_id=note.patient_id,
    )


# The psychotherapy note: its author's alone -----------------------------------------------------------------


@service(Permission.WRITE_PSYCHOTHERAPY_NOTE, on="session")
def psychotherapy_note_save(*, actor, session, body: str) -> PsychotherapyNote:
    """Create or rewrite the actor's own psychotherapy note on the session. Nobody else can read or write it."""
    body = _clean_text(body, field="body", limit=NOTE_LIMIT, required_message="Write the note.")
    session = _lock_session(session)
    note = visible_psychotherapy_notes(actor).filter(session=session).first()
    if note is None:
        note = PsychotherapyNote.objects.create(session=session, patient_id=session.patient_id, author=actor, body=body)
        audit_record(actor, AuditEvent.Action.CREATE, note)
        return note
    note.body = body
    note.save(update_fields=["body", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, note)
    return note


# The integration summary -----------------------------------------------------------------------------------


def summary_locked(summary) -> RuleRefused:
    return record_locked(summary, "integration_summary_signed")


@service(Permission.WRITE_SESSION_NOTE, on="session")
def integration_summary_save(*, actor, session, data: dict) -> IntegrationSummary:
    """Write the integration session's structured summary as a draft (themes, insights, changes, concerns for
    the prescriber). Refused for other kinds of session, once the session's note is signed and once the summary
    itself is signed."""
    unknown = set(data) - set(SUMMARY_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Not a part of an integration summary."))
    fields = {name: _clean_text(data.get(name), field=name, limit=SUMMARY_LIMIT) for name in SUMMARY_FIELDS}
    if not any(fields.values()):
        raise ValidationError({"themes": "Write at least one part of the summary."})
    session = _lock_session(session)
    if session.kind != TherapySession.Kind.INTEGRATION:
        raise RuleRefused(
            f"Only an integration session has an integration summary; this is a {session.get_kind_display().lower()} "
            "session.",
            code="not_an_integration_session",
        )
    locked = session_documentation_locked(session)
    if locked is not None:
        raise locked
    summary = IntegrationSummary.objects.filter(session=session).first()
    if summary is None:
        summary = IntegrationSummary.objects.create(
            session=session, patient_id=session.patient_id, author=actor, **fields
        )
        audit_record(actor, AuditEvent.Action.CREATE, summary)
        return summary
    if summary.is_signed:
        raise summary_locked(summary)
    for name, value in fields.items():
        setattr(summary, name, value)
    summary.author = actor
    summary.save(update_fields=[*SUMMARY_FIELDS, "author", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, summary)
    return summary


def integration_summary_missing(summary) -> dict:
    """What stops the summary being signed, as field errors: the prescriber is told plainly whether there is
    anything to watch for (blank could mean "nothing" or "not written yet")."""
    if summary.concerns_for_prescriber.strip():
        return {}
    return {
        "concerns_for_prescriber": 'Write the concerns for the prescriber before signing ("None" if there are none).'
    }


@service(Permission.WRITE_SESSION_NOTE, on="summary")
def integration_summary_sign(*, actor, summary) -> IntegrationSummary:
    """Sign and lock the summary with a hash of its content, before the note or without it. Refused (400)
    naming what is missing, and (409) once signed."""
    _lock_session(summary.session)
    summary = IntegrationSummary.objects.select_for_update().get(pk=summary.pk)
    if summary.is_signed:
        raise summary_locked(summary)
    missing = integration_summary_missing(summary)
    if missing:
        raise ValidationError(missing)
    return record_sign(summary, actor=actor)


@service(Permission.WRITE_SESSION_NOTE, on="summary")
def integration_summary_add_addendum(*, actor, summary, body: str) -> IntegrationSummaryAddendum:
    """A signed correction or addition to a signed integration summary, by the therapist on the care team."""
    body = _clean_text(body, field="body", limit=ADDENDUM_LIMIT, required_message="Write the addendum.")
    unsigned = RuleRefused(
        "Addenda are for signed summaries: this one is still a draft, so change it directly.",
        code="integration_summary_not_signed",
    )
    return record_addendum(
        summary,
        IntegrationSummaryAddendum,
        actor=actor,
        link="summary",
        unsigned=unsigned,
        text={"body": body},
        patient_id=summary.patient_id,
    )

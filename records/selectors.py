"""Reads for records that leave. Access is decided in kapcare.access (EXPORT_RECORD, RELEASE_RECORD); once it is,
`record_contents` reads the patient's whole designated record set, minus what must never leave:

- psychotherapy notes, and even the access-history rows that would show one exists (HIPAA keeps them out of the
  right of access; kapcare.access lets no one but their author read one);
- the care-team thread (the clinicians' working conversation), receipts and notifications;
- drafts (unsigned evaluations, dose plans, notes, follow-ups): only what was signed is the record;
- the free-text reason a session was cancelled or moved (it may name other people), screening flags (a
  judgement in progress, reviewed in the signed evaluation) and safety-alert workflow;
- other patients: every query below is filtered by this one patient.
"""

from decimal import Decimal

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from assessments import instruments
from assessments.models import Evaluation, Intake, QuestionnaireResponse
from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.selectors import filter_history
from kapcare.audit.services import audit_denied, audit_record
from messaging.models import Message, Thread
from patients.access import visible_patients
from patients.models import CareTeamMember, ConsentKind, ConsentSignature
from treatment.models import AdverseEvent, DosePlan, FollowUp, IntegrationSummary, SessionNote, TherapySession
from treatment.notes.selectors import visible_psychotherapy_notes

from .models import RecordExport, token_sha256

# Intake columns that are bookkeeping, not the patient's answers.
INTAKE_SKIPPED = {"id", "patient", "status", "submitted_by", "created_at", "updated_at", "version"}


def patient_for_export(user, patient_id, *, permission=Permission.EXPORT_RECORD, action=AuditEvent.Action.READ):
    """The patient whose record the user may copy: 404 (audited) out of reach, 403 (audited) for another role."""
    patient = access.get_visible(visible_patients(user), patient_id, user=user, action=action)
    access.require(user, permission, patient)
    return patient


def visible_exports(user):
    """Exports the user asked for, of patients they can still see: a link works only for the one who made it."""
    if not user.is_authenticated:
        return RecordExport.objects.none()
    return RecordExport.objects.filter(requested_by=user, patient__in=visible_patients(user))


def export_by_token(user, token):
    """The export behind a download link, or 404 (audited against its patient when it exists)."""
    token_hash = token_sha256(token or "")
    # The files load only when downloaded (deferred fields), not on every poll of the status.
    export = visible_exports(user).filter(token_hash=token_hash).defer("html", "json", "pdf").first()
    if export is None:
        patient_id = RecordExport.objects.filter(token_hash=token_hash).values_list("patient_id", flat=True).first()
        audit_denied(
            user, AuditEvent.Action.READ, object_type="records.recordexport", object_id="", patient_id=patient_id
        )
        raise Http404("No such download link, or it is not yours.")
    return export


def export_in_progress(user, patient):
    """Whether the user already has a copy of this record being prepared (one at a time: each costs a PDF). One
    whose task was lost (a broker restart) stops counting after BUILD_TIMEOUT, so nobody is locked out."""
    busy = (RecordExport.Status.QUEUED, RecordExport.Status.RUNNING)
    since = timezone.now() - RecordExport.BUILD_TIMEOUT
    return visible_exports(user).filter(patient=patient, status__in=busy, created_at__gte=since).exists()


def recent_exports(user, patient, *, limit=10):
    return list(visible_exports(user).filter(patient=patient).defer("html", "json", "pdf")[:limit])


def release_authorization(patient):
    """The patient's signature on the current release-of-information document, or None."""
    return (
        ConsentSignature.objects.filter(patient=patient, document__kind=ConsentKind.RELEASE_OF_INFORMATION)
        .filter(document__in=_current_release_documents())
        .select_related("document")
        .first()
    )


def _current_release_documents():
    from patients.models import ConsentDocument

    return ConsentDocument.objects.current().filter(kind=ConsentKind.RELEASE_OF_INFORMATION)


# The record itself ---------------------------------------------------------------------------------------


def _when(value):
    return value.isoformat() if value else None


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _name(user):
    return str(user) if user is not None else None


def record_contents(patient, *, now=None) -> dict:
    """The patient's record as plain data (JSON-ready), for the readable document, the JSON file and FHIR."""
    now = now or timezone.now()
    return {
        "generated_at": now.isoformat(),
        "patient": _patient(patient),
        "care_team": _care_team(patient),
        "referral": _referral(patient),
        "intake": _intake(patient),
        "consents": _consents(patient),
        "evaluations": _evaluations(patient),
        "dose_plans": _dose_plans(patient),
        "sessions": _sessions(patient),
        "follow_ups": _follow_ups(patient),
        "questionnaires": _questionnaires(patient),
        "side_effects": _side_effects(patient),
        "messages": _messages(patient),
        "access_history": _access_history(patient),
    }


def _patient(patient):
    return {
        "id": str(patient.pk),
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "email": patient.email,
        "phone": patient.phone,
        "state": patient.state,
        "stage": patient.stage,
        "stage_label": patient.get_stage_display(),
        "emergency_contact": {
            "name": patient.emergency_contact_name,
            "phone": patient.emergency_contact_phone,
            "relationship": patient.emergency_contact_relationship,
        },
        "chaperone": {"name": patient.chaperone_name, "phone": patient.chaperone_phone},
        "medical_group": str(patient.medical_group),
    }


def _care_team(patient):
    members = CareTeamMember.objects.filter(patient=patient).select_related("clinician", "clinician__organization")
    return [
        {
            "clinician_id": str(member.clinician_id),
            "name": _name(member.clinician),
            "role": member.role,
            "organization": str(member.clinician.organization or ""),
            "active_from": _when(member.active_from),
            "active_to": _when(member.active_to),
        }
        for member in members.order_by("active_from", "id")
    ]


def _referral(patient):
    referral = getattr(patient, "referral", None)
    if referral is None:
        return None
    return {
        "reasons": referral.get_reasons_display(),
        "reason_details": referral.reason_details,
        "current_diagnoses": referral.current_diagnoses,
        "current_treatment": referral.current_treatment,
        "current_medications": referral.current_medications,
        "referred_at": _when(referral.created_at),
    }


def _intake(patient):
    intake = (
        Intake.objects.filter(patient=patient, status=Intake.Status.SUBMITTED)
        .prefetch_related("medications")
        .order_by("-submitted_at")
        .first()
    )
    if intake is None:
        return None
    answers = []
    for field in Intake._meta.concrete_fields:
        if field.name in INTAKE_SKIPPED or field.name == "submitted_at":
            continue
        value = getattr(intake, field.name)
        if field.choices and value not in (None, ""):
            value = getattr(intake, f"get_{field.name}_display")()
        answers.append({"field": field.name, "label": str(field.verbose_name).capitalize(), "value": _plain(value)})
    return {
        "submitted_at": _when(intake.submitted_at),
        "answers": answers,
        "medications": [
            {"name": med.name, "dose": med.dose, "frequency": med.frequency} for med in intake.medications.all()
        ],
    }


def _consents(patient):
    signatures = ConsentSignature.objects.filter(patient=patient).select_related("document")
    return [
        {
            "id": signature.pk,
            "kind": signature.document.kind,
            "title": signature.document.title,
            "version": signature.document.version,
            "signed_at": _when(signature.signed_at),
            "typed_name": signature.typed_name,
            "text_sha256": signature.text_sha256,
        }
        for signature in signatures.order_by("signed_at", "id")
    ]


def _evaluations(patient):
    evaluations = (
        Evaluation.objects.filter(patient=patient, status=Evaluation.Status.SIGNED)
        .select_related("prescriber")
        .prefetch_related("addenda")
        .order_by("signed_at")
    )
    return [
        {
            "id": str(evaluation.pk),
            "signed_at": _when(evaluation.signed_at),
            "prescriber_id": str(evaluation.prescriber_id),
            "prescriber": _name(evaluation.prescriber),
            **{field: _plain(getattr(evaluation, field)) for field in Evaluation.CONTENT_FIELDS},
            "decision_label": evaluation.get_decision_display(),
            "addenda": [
                {"signed_at": _when(addendum.signed_at), "text": addendum.text}
                for addendum in sorted(evaluation.addenda.all(), key=lambda addendum: addendum.signed_at)
            ],
        }
        for evaluation in evaluations
    ]


def _dose_plans(patient):
    plans = (
        DosePlan.objects.filter(patient=patient)
        .exclude(status=DosePlan.Status.DRAFT)
        .select_related("prescriber")
        .order_by("signed_at")
    )
    return [
        {
            "id": str(plan.pk),
            "version": plan.version,
            "status": plan.status,
            "status_label": plan.get_status_display(),
            "signed_at": _when(plan.signed_at),
            "superseded_at": _when(plan.superseded_at),
            "prescriber_id": str(plan.prescriber_id),
            "prescriber": _name(plan.prescriber),
            **{field: _plain(getattr(plan, field)) for field in DosePlan.CONTENT_FIELDS},
            "route_label": plan.get_route_display(),
            "first_dose_mg": _plain(plan.first_dose_mg),
        }
        for plan in plans
    ]


def _sessions(patient):
    sessions = (
        TherapySession.objects.filter(patient=patient)
        .select_related("therapist", "dosing_record")
        .prefetch_related("vitals", "boosters")
        .order_by("scheduled_at", "id")
    )
    notes = {
        note.session_id: note
        for note in SessionNote.objects.filter(patient=patient, status=SessionNote.Status.SIGNED)
        .select_related("author")
        .prefetch_related("addenda")
    }
    summaries = {
        summary.session_id: summary
        for summary in IntegrationSummary.objects.filter(patient=patient).prefetch_related("addenda")
    }
    return [_session(session, notes.get(session.pk), summaries.get(session.pk)) for session in sessions]


def _session(session, note, summary):
    dosing = getattr(session, "dosing_record", None)
    return {
        "id": str(session.pk),
        "kind": session.kind,
        "kind_label": session.get_kind_display(),
        "scheduled_at": _when(session.scheduled_at),
        "duration_minutes": session.duration_minutes,
        "modality": session.modality,
        "modality_label": session.get_modality_display(),
        "status": session.status,
        "status_label": session.get_status_display(),
        "therapist_id": str(session.therapist_id) if session.therapist_id else None,
        "therapist": _name(session.therapist),
        "completed_at": _when(session.completed_at),
        "dose": None
        if dosing is None
        else {
            "dose_mg": _plain(dosing.dose_mg),
            "taken_at": _when(dosing.dose_taken_at),
            "ended_at": _when(dosing.ended_at),
            "boosters": [
                {"dose_mg": _plain(booster.dose_mg), "taken_at": _when(booster.taken_at)}
                for booster in session.boosters.all()
            ],
        },
        "vitals": [
            {
                "id": str(reading.pk),
                "phase": reading.get_phase_display(),
                "taken_at": _when(reading.taken_at),
                "systolic": reading.systolic,
                "diastolic": reading.diastolic,
                "pulse": reading.pulse,
                "spo2": reading.spo2,
                "in_range": reading.in_range,
            }
            for reading in session.vitals.all()
        ],
        "note": None
        if note is None
        else {
            "id": str(note.pk),
            "author_id": str(note.author_id),
            "author": _name(note.author),
            "signed_at": _when(note.signed_at),
            "body": note.body,
            "addenda": [
                {"signed_at": _when(addendum.signed_at), "body": addendum.body}
                for addendum in sorted(note.addenda.all(), key=lambda addendum: addendum.signed_at)
            ],
        },
        "integration_summary": None
        if summary is None
        else {
            "themes": summary.themes,
            "insights": summary.insights,
            "changes": summary.changes,
            "concerns_for_prescriber": summary.concerns_for_prescriber,
            "signed_at": _when(summary.signed_at) if summary.is_signed else None,
            "addenda": [
                {"signed_at": _when(addendum.signed_at), "body": addendum.body}
                for addendum in sorted(summary.addenda.all(), key=lambda addendum: addendum.signed_at)
            ],
        },
    }


def _follow_ups(patient):
    visits = FollowUp.objects.signed().filter(patient=patient).select_related("prescriber").order_by("signed_at")
    return [
        {
            "id": str(visit.pk),
            "due_on": visit.due_on.isoformat(),
            "signed_at": _when(visit.signed_at),
            "prescriber_id": str(visit.prescriber_id),
            "prescriber": _name(visit.prescriber),
            "symptoms": visit.symptoms,
            "side_effects": visit.side_effects,
            "decision": visit.decision,
            "decision_label": visit.get_decision_display(),
            "rationale": visit.rationale,
        }
        for visit in visits
    ]


def _questionnaires(patient):
    names = {code: instrument.short_name for code, instrument in instruments.instruments().items()}
    responses = QuestionnaireResponse.objects.filter(patient=patient).order_by("submitted_at", "id")
    return [
        {
            "id": str(response.pk),
            "instrument": response.instrument,
            "instrument_name": names.get(response.instrument, response.instrument),
            "submitted_at": _when(response.submitted_at),
            "total_score": response.total_score,
            "severity": response.severity,
            "answers": response.answers,
            "entered_on_behalf": response.on_behalf,
        }
        for response in responses
    ]


def _side_effects(patient):
    events = AdverseEvent.objects.filter(patient=patient).order_by("reported_at", "id")
    return [
        {
            "id": str(event.pk),
            "session_id": str(event.session_id) if event.session_id else None,
            "kind": event.kind,
            "kind_label": event.get_kind_display(),
            "severity": event.severity,
            "description": event.description,
            "onset_minutes": event.onset_minutes,
            "action_taken": event.get_action_taken_display(),
            "reported_at": _when(event.reported_at),
        }
        for event in events
    ]


def _messages(patient):
    """The thread between the patient and their care team; the care-team thread never leaves."""
    messages = (
        Message.objects.filter(patient=patient, thread__patient=patient, thread__kind=Thread.Kind.PATIENT)
        .select_related("author")
        .order_by("created_at", "id")
    )
    return [
        {
            "at": _when(message.created_at),
            "author": _name(message.author) or "KAPCare",
            "kind": message.get_kind_display(),
            "body": message.body,
        }
        for message in messages
    ]


def _access_history(patient):
    events = (
        AuditEvent.objects.filter(patient=patient)
        .exclude(object_type=access.PRIVATE_NOTE_TYPE)
        .select_related("actor")
        .order_by("at", "id")
    )
    return [
        {
            "at": _when(event.at),
            "who": _name(event.actor) or "Not signed in",
            "role": event.actor_role,
            "action": event.get_action_display(),
            "record": event.object_type,
            "outcome": event.outcome,
        }
        for event in events
    ]


# The access history: who read or changed the record ---------------------------------------------------


def access_history(user, patient_id, *, filters=None):
    """Who read or changed this patient's record: for the patient and their clinicians.
    Outsiders get 404, other roles 403, and looking at the history is itself recorded.
    `filters` (validated by kapcare.audit.forms.AccessHistoryFilter): outcome, actor, since, until (UTC dates)."""
    patient = access.get_visible(visible_patients(user), patient_id, user=user, action=AuditEvent.Action.READ)
    access.require(user, Permission.VIEW_ACCESS_HISTORY, patient)
    audit_record(user, AuditEvent.Action.READ, patient)
    events = AuditEvent.objects.filter(patient=patient).select_related("actor")
    # Even that a psychotherapy note exists is its author's alone: others see no row about one but their own.
    # The author sees every row about their notes, refused attempts by others included.
    private = Q(object_type=access.PRIVATE_NOTE_TYPE) & ~Q(actor=user) & ~Q(object_id__in=_own_note_ids(user, patient))
    return patient, filter_history(events.exclude(private), filters or {})


def _own_note_ids(user, patient):
    if not access.can(user, Permission.WRITE_PSYCHOTHERAPY_NOTE):
        return []
    notes = visible_psychotherapy_notes(user).filter(patient=patient)
    return [str(pk) for pk in notes.values_list("pk", flat=True)]

"""Portal pages of session documentation. The forms live in templates/treatment/_session_notes.html, which the
session page includes; every POST here returns to the page it came from (`next`), else to the notes page.
Thin: look up through access, validate, call one service; a refusal shows its sentence."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from patients import selectors as patient_selectors
from treatment.course import selectors as course_selectors
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services
from treatment.notes.forms import IntegrationSummaryForm, NoteAddendumForm, ProgressNoteForm, PsychotherapyNoteForm
from treatment.sessions.models import TherapySession


def _session(user, patient_id, session_id, *, action):
    """The visible patient's session, or 404 (audited against the real patient)."""
    patient = patient_selectors.patient_for_chart(user, patient_id, action=action)
    return access.get_visible(
        course_selectors.visible_sessions(user).filter(patient=patient).select_related("patient"),
        session_id,
        user=user,
        action=action,
        model=TherapySession,
        patient_field="patient_id",
    )


def _back(request, session):
    target = request.POST.get("next", "")
    local = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if local:
        return HttpResponseRedirect(target)
    return redirect(reverse("treatment:session-notes", args=[session.patient_id, session.pk]))


def _refused(request, error):
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(error))


@login_required
def session_notes_page(request, patient_id, session_id):
    """A session's documentation on its own page (the session page shows the same panel)."""
    session = _session(request.user, patient_id, session_id, action=AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_DOCUMENTATION_STATE, session)
    audit_record(request.user, AuditEvent.Action.READ, session)
    context = {"patient": session.patient, "session": session}
    context.update(note_selectors.note_context(request.user, session))
    return render(request, "treatment/notes/session_notes.html", context)


@login_required
@require_POST
def progress_note_save(request, patient_id, session_id):
    """Save the draft; with `action=sign`, then sign it. A refused signature keeps the draft and says why."""
    session = _session(request.user, patient_id, session_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.WRITE_SESSION_NOTE, session)
    form = ProgressNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("body", ["Check the note."])))
        return _back(request, session)
    signing = request.POST.get("action") == "sign"
    try:
        note_services.note_save_draft(actor=request.user, session=session, body=form.cleaned_data["body"])
        if signing:
            note_services.note_sign(actor=request.user, session=session)
    except (ValidationError, RuleRefused) as error:
        if signing:
            messages.warning(request, "The draft is saved but not signed:")
        _refused(request, error)
    else:
        messages.success(request, "Note signed and locked." if signing else "Draft saved.")
    return _back(request, session)


@login_required
@require_POST
def note_addendum_add(request, patient_id, session_id):
    session = _session(request.user, patient_id, session_id, action=AuditEvent.Action.CREATE)
    access.require(request.user, Permission.WRITE_SESSION_NOTE, session)
    note = note_selectors.visible_session_notes(request.user).filter(session=session).first()
    form = NoteAddendumForm(request.POST)
    if note is None:
        messages.error(request, "This session has no signed note to add to.")
    elif not form.is_valid():
        messages.error(request, " ".join(form.errors.get("body", ["Write the addendum."])))
    else:
        try:
            note_services.note_add_addendum(actor=request.user, note=note, body=form.cleaned_data["body"])
        except (ValidationError, RuleRefused) as error:
            _refused(request, error)
        else:
            messages.success(request, "Addendum signed.")
    return _back(request, session)


@login_required
@require_POST
def psychotherapy_note_save(request, patient_id, session_id):
    session = _session(request.user, patient_id, session_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.WRITE_PSYCHOTHERAPY_NOTE, session)
    form = PsychotherapyNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("body", ["Write the note."])))
    else:
        try:
            note_services.psychotherapy_note_save(actor=request.user, session=session, body=form.cleaned_data["body"])
        except (ValidationError, RuleRefused) as error:
            _refused(request, error)
        else:
            messages.success(request, "Psychotherapy note saved. Only you can read it.")
    return _back(request, session)


@login_required
@require_POST
def integration_summary_save(request, patient_id, session_id):
    session = _session(request.user, patient_id, session_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.WRITE_SESSION_NOTE, session)
    form = IntegrationSummaryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the summary: " + " ".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            note_services.integration_summary_save(actor=request.user, session=session, data=form.cleaned_data)
        except (ValidationError, RuleRefused) as error:
            _refused(request, error)
        else:
            messages.success(request, "Integration summary saved.")
    return _back(request, session)

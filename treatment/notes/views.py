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
from kapcare.signing.web import save_then_sign
from patients import selectors as patient_selectors
from treatment.course import selectors as course_selectors
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services
from treatment.notes.forms import (
    IntegrationSummaryForm,
    NoteAddendumForm,
    ProgressNoteForm,
    PsychotherapyNoteForm,
    SummaryAddendumForm,
)
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


def _post_of(request, patient_id, session_id, *, permission, action, form_class):
    """The session a documentation POST is for (404 out of reach, 403 for a role that may not) and its form."""
    session = _session(request.user, patient_id, session_id, action=action)
    access.require(request.user, permission, session)
    return session, form_class(request.POST)


def _form_errors(request, form):
    many = len(form.fields) > 1
    for name, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{form[name].label}: {error}" if many and name in form.fields else error)


def _write(request, session, form, write, *, done):
    """`write(cleaned_data)` for a valid form, then `done` or what was wrong or refused; back to the page."""
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            write(form.cleaned_data)
        except (ValidationError, RuleRefused) as error:
            _refused(request, error)
        else:
            messages.success(request, done)
    return _back(request, session)


def _save_then_sign(request, session, form, *, save, sign, signed, saved_draft="Draft saved."):
    """The kernel's save-then-sign for a session's signed record (`action=sign` asks to sign): a refused
    signature keeps the draft and says why."""
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request, session)
    wants_sign = request.POST.get("action") == "sign"
    saved = save_then_sign(form, save=lambda: save(form.cleaned_data), sign=sign, wants_sign=wants_sign)
    if saved.done:
        messages.success(request, signed if saved.signed else saved_draft)
        return _back(request, session)
    if saved.record is not None and wants_sign:
        messages.warning(request, "The draft is saved but not signed:")
    if saved.refusal:
        messages.error(request, saved.refusal)
    _form_errors(request, form)
    return _back(request, session)


@login_required
@require_POST
def progress_note_save(request, patient_id, session_id):
    """Save the draft; with `action=sign`, then sign it. A refused signature keeps the draft and says why."""
    session, form = _post_of(
        request,
        patient_id,
        session_id,
        permission=Permission.WRITE_SESSION_NOTE,
        action=AuditEvent.Action.UPDATE,
        form_class=ProgressNoteForm,
    )
    return _save_then_sign(
        request,
        session,
        form,
        save=lambda data: note_services.note_save_draft(actor=request.user, session=session, body=data["body"]),
        sign=lambda note: note_services.note_sign(actor=request.user, session=session),
        signed="Note signed and locked.",
    )


@login_required
@require_POST
def note_addendum_add(request, patient_id, session_id):
    session, form = _post_of(
        request,
        patient_id,
        session_id,
        permission=Permission.WRITE_SESSION_NOTE,
        action=AuditEvent.Action.CREATE,
        form_class=NoteAddendumForm,
    )
    note = note_selectors.visible_session_notes(request.user).filter(session=session).first()
    if note is None:
        messages.error(request, "This session has no signed note to add to.")
        return _back(request, session)
    return _write(
        request,
        session,
        form,
        lambda data: note_services.note_add_addendum(actor=request.user, note=note, body=data["body"]),
        done="Addendum signed.",
    )


@login_required
@require_POST
def psychotherapy_note_save(request, patient_id, session_id):
    session, form = _post_of(
        request,
        patient_id,
        session_id,
        permission=Permission.WRITE_PSYCHOTHERAPY_NOTE,
        action=AuditEvent.Action.UPDATE,
        form_class=PsychotherapyNoteForm,
    )
    return _write(
        request,
        session,
        form,
        lambda data: note_services.psychotherapy_note_save(actor=request.user, session=session, body=data["body"]),
        done="Psychotherapy note saved. Only you can read it.",
    )


@login_required
@require_POST
def integration_summary_save(request, patient_id, session_id):
    """Save the summary's draft; with `action=sign`, then sign it. A refused signature keeps the draft."""
    session, form = _post_of(
        request,
        patient_id,
        session_id,
        permission=Permission.WRITE_SESSION_NOTE,
        action=AuditEvent.Action.UPDATE,
        form_class=IntegrationSummaryForm,
    )
    return _save_then_sign(
        request,
        session,
        form,
        save=lambda data: note_services.integration_summary_save(actor=request.user, session=session, data=data),
        sign=lambda summary: note_services.integration_summary_sign(actor=request.user, summary=summary),
        signed="Integration summary signed and locked.",
        saved_draft="Integration summary saved.",
    )


@login_required
@require_POST
def integration_summary_addendum_add(request, patient_id, session_id):
    session, form = _post_of(
        request,
        patient_id,
        session_id,
        permission=Permission.WRITE_SESSION_NOTE,
        action=AuditEvent.Action.CREATE,
        form_class=SummaryAddendumForm,
    )
    summary = note_selectors.integration_summary_for(request.user, session)
    if summary is None:
        messages.error(request, "This session has no signed integration summary to add to.")
        return _back(request, session)
    return _write(
        request,
        session,
        form,
        lambda data: note_services.integration_summary_add_addendum(
            actor=request.user, summary=summary, body=data["body"]
        ),
        done="Addendum signed.",
    )

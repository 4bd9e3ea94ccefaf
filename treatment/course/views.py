"""Portal pages of the course of care: the prescriber's evaluation, dose plan and follow-up visits (sessions
are in session_views). Thin: look up through access, validate, call one service; a refused gate shows its
sentence (status 409, like the API)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from kapcare import access
from kapcare.access import Permission
from kapcare.accounts import credentials
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.signing.web import save_then_sign
from patients import selectors as patient_selectors
from treatment.course import selectors as course_selectors
from treatment.course import services
from treatment.course.forms import AddendumForm, DosePlanForm, EvaluationForm, FollowUpForm
from treatment.course.models import DosePlan


def _credential_gaps(user, patient, can_write):
    """What the signing prescriber lacks for this patient's state, shown before they try to sign."""
    return credentials.missing_to_sign(user, patient.state) if can_write else []


def _saved(request, saved, patient, signed_message, page):
    """After a signed record's form: signed -> the chart; a draft saved -> back to its page."""
    if saved.signed:
        messages.success(request, signed_message)
        return redirect("dashboards:patient-chart", patient.pk)
    messages.success(request, "Draft saved.")
    return redirect(page, patient.pk)


@login_required
def evaluation_page(request, patient_id):
    """The clinicians read the evaluations; the prescriber on the team writes, signs and amends them."""
    user = request.user
    action = AuditEvent.Action.UPDATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(user, patient_id, action=action)
    access.require(user, Permission.VIEW_EVALUATION, patient)
    can_write = access.can(user, Permission.WRITE_EVALUATION)
    if request.method == "POST":
        access.require(user, Permission.WRITE_EVALUATION, patient)
    evaluations = assessment_selectors.evaluations_of_patient(user, patient)
    draft = next((e for e in evaluations if not e.is_signed), None)
    signed = [e for e in evaluations if e.is_signed]
    intake = assessment_services.latest_submitted_intake(patient)
    flags = list(intake.flags.all()) if intake else []
    reviews = {review.flag_id: review for review in draft.flag_reviews.all()} if draft else {}
    form = EvaluationForm(request.POST or None, instance=draft, flags=flags, reviews=reviews) if can_write else None
    addendum_form = AddendumForm(prefix="addendum")
    refusal = None
    if request.method == "POST" and request.POST.get("action") == "addendum":
        addendum_form = AddendumForm(request.POST, prefix="addendum")
        target = next((e for e in signed if str(e.pk) == request.POST.get("evaluation")), None)
        if target is not None and addendum_form.is_valid():
            try:
                assessment_services.evaluation_add_addendum(
                    actor=user, evaluation=target, text=addendum_form.cleaned_data["text"]
                )
            except (ValidationError, RuleRefused) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, "Addendum signed.")
                return redirect("treatment:patient-evaluation", patient.pk)
        form = EvaluationForm(instance=draft, flags=flags, reviews=reviews)
    elif request.method == "POST" and form.is_valid():
        saved = save_then_sign(
            form,
            save=lambda: assessment_services.evaluation_save_draft(
                actor=user, patient=patient, data=form.content(), flag_reviews=form.flag_reviews(), evaluation=draft
            ),
            sign=lambda evaluation: services.evaluation_sign_and_advance_course(actor=user, evaluation=evaluation),
            wants_sign=request.POST.get("action") == "sign",
        )
        refusal = saved.refusal
        if saved.done:
            return _saved(request, saved, patient, "Evaluation signed and locked.", "treatment:patient-evaluation")
    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "form": form,
        "draft": draft,
        "signed": signed,
        "intake": intake,
        "flags": flags,
        "addendum_form": addendum_form if can_write else None,
        "refusal": refusal,
        "credential_gaps": _credential_gaps(user, patient, can_write),
        "missing": assessment_services.evaluation_missing(draft) if draft else {},
        "consents_outstanding": patient_selectors.outstanding_consents(patient) if form else [],
    }
    return render(request, "treatment/course/evaluation.html", context, status=409 if refusal else 200)


@login_required
def dose_plan_page(request, patient_id):
    """The active dose plan and its history; the prescriber on the team writes and signs new versions.
    mg/kg is computed by the server from the intake weight each time the draft is saved."""
    user = request.user
    action = AuditEvent.Action.UPDATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(user, patient_id, action=action)
    access.require(user, Permission.VIEW_DOSE_PLAN, patient)
    can_write = access.can(user, Permission.WRITE_DOSE_PLAN)
    if request.method == "POST":
        access.require(user, Permission.WRITE_DOSE_PLAN, patient)
    draft = course_selectors.draft_dose_plan(patient)
    active = course_selectors.active_dose_plan(patient)
    initial_source = draft or active
    form = None
    if can_write:
        initial = (
            {name: getattr(initial_source, name) for name in DosePlan.CONTENT_FIELDS}
            if initial_source and draft is None
            else None
        )
        form = DosePlanForm(request.POST or None, instance=draft, initial=initial)
    refusal = None
    if request.method == "POST" and form.is_valid():
        saved = save_then_sign(
            form,
            save=lambda: services.dose_plan_save_draft(actor=user, patient=patient, data=form.content(), plan=draft),
            sign=lambda plan: services.dose_plan_sign(actor=user, plan=plan),
            wants_sign=request.POST.get("action") == "sign",
        )
        refusal = saved.refusal
        if saved.done:
            signed = f"Dose plan version {saved.record.version} signed: it is now the active plan."
            return _saved(request, saved, patient, signed, "treatment:patient-dose-plan")
    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, patient)
    weight = course_selectors.dosing_weight(patient)
    course = course_selectors.open_course(patient)
    context = {
        "patient": patient,
        "form": form,
        "draft": draft,
        "active": active,
        "weight": weight,
        "draft_mg_per_kg": draft.mg_per_kg(weight.kg) if draft else None,
        "active_mg_per_kg": active.mg_per_kg(weight.kg) if active else None,
        "history": list(course_selectors.visible_dose_plans(user).filter(patient=patient).history()),
        "ledger": course_selectors.ledger(course) if course else None,
        "refusal": refusal,
        "credential_gaps": _credential_gaps(user, patient, can_write),
    }
    return render(request, "treatment/course/dose_plan.html", context, status=409 if refusal else 200)


@login_required
def follow_up_page(request, patient_id):
    """The follow-up visit: what the prescriber reviews (scores since baseline, dosing sessions and whether
    each is documented, side effects), the note and decision, and the signed visits. The clinicians read;
    the prescriber on the team starts, writes and signs (signing applies the decision)."""
    user = request.user
    action = AuditEvent.Action.UPDATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(user, patient_id, action=action)
    access.require(user, Permission.VIEW_FOLLOW_UP, patient)
    can_write = access.can(user, Permission.WRITE_FOLLOW_UP)
    if request.method == "POST":
        access.require(user, Permission.WRITE_FOLLOW_UP, patient)
    pending = course_selectors.pending_follow_up(user, patient)
    form = FollowUpForm(request.POST or None, instance=pending) if can_write and pending else None
    refusal = None
    if request.method == "POST" and request.POST.get("action") == "start":
        try:
            services.follow_up_start(actor=user, patient=patient)
        except RuleRefused as error:
            refusal = str(error)
        else:
            return redirect("treatment:patient-follow-up", patient.pk)
    elif request.method == "POST" and form is None:
        refusal = "There is no follow-up visit to write: start one first."
    elif request.method == "POST" and form.is_valid():
        saved = save_then_sign(
            form,
            save=lambda: services.follow_up_save_draft(actor=user, follow_up=pending, data=form.content()),
            sign=lambda follow_up: services.follow_up_sign(actor=user, follow_up=follow_up),
            wants_sign=request.POST.get("action") == "sign",
        )
        refusal = saved.refusal
        if saved.done:
            signed = "Follow-up signed and locked; its decision is applied."
            return _saved(request, saved, patient, signed, "treatment:patient-follow-up")
    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, patient)
    course = course_selectors.open_course(patient)
    today = timezone.localdate()
    context = {
        "patient": patient,
        "pending": pending,
        "days_overdue": pending.days_overdue(today) if pending else 0,
        "form": form,
        "can_write": can_write,
        "signed": list(course_selectors.visible_follow_ups(user).filter(patient=patient).signed()),
        "scores": course_selectors.scores_since_baseline(patient),
        "session_reviews": course_selectors.dosing_sessions_for_review(course),
        "side_effects": course_selectors.side_effects_for_follow_up(course),
        "ledger": course_selectors.ledger(course) if course else None,
        "draft_plan": course_selectors.draft_dose_plan(patient),
        "missing": services.follow_up_missing(pending, today) if pending else {},
        "refusal": refusal,
        "credential_gaps": _credential_gaps(user, patient, can_write),
    }
    return render(request, "treatment/course/follow_up.html", context, status=409 if refusal else 200)

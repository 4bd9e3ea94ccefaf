"""Writes to the intake. Keyword-only, actor first, atomic, audited.

The caller has already found the patient through kapcare.access (an outsider got 404 there);
these services check what the actor's role may do, and the intake's own rules (a submitted
intake never changes).
"""

from django.core.exceptions import ValidationError
from django.utils import timezone

from kapcare.access import Permission
from kapcare.accounts import credentials
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from kapcare.signing.services import record_addendum, record_sign, supervision_consider_on_commit
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import SafetyAlert

from . import screening
from .models import (
    MEDICAL_CONDITIONS,
    Evaluation,
    EvaluationAddendum,
    EvaluationFlagReview,
    Intake,
    IntakeMedication,
    ScreeningFlag,
    ScreeningRule,
    Severity,
)

# Every answer the patient gives: what a draft may set.
ANSWER_FIELDS = tuple(
    field.name
    for field in Intake._meta.concrete_fields
    if field.name not in {"id", "patient", "status", "submitted_at", "submitted_by", "created_at", "updated_at"}
)
MEDICATION_FIELDS = ("name", "dose", "frequency", *IntakeMedication.CLASS_FLAGS)
MAX_MEDICATIONS = 40


class IntakeLocked(RuleRefused):
    """The intake was submitted: its answers never change (409 through the API's exception handler)."""

    code = "intake_locked"

    def __init__(self, intake):
        at = timezone.localtime(intake.submitted_at) if intake.submitted_at else None
        submitted = f"{at:%b} {at.day}, {at.year}" if at else ""
        super().__init__(
            f"This intake was submitted{' on ' + submitted if submitted else ''} and is locked: submitted answers "
            "never change, because the prescriber's evaluation rests on them. Tell your care team what to correct."
        )


def current_intake(patient, *, for_update=False):
    """The patient's latest intake, or None."""
    intakes = Intake.objects.filter(patient=patient).latest_first()
    if for_update:
        intakes = intakes.select_for_update()
    return intakes.first()


def _check_fields(data):
    unknown = set(data) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a question on the intake."))


def _medication_rows(intake, medications):
    if len(medications) > MAX_MEDICATIONS:
        raise ValidationError({"medications": f"List at most {MAX_MEDICATIONS} medicines."})
    rows = []
    for position, item in enumerate(medications):
        unknown = set(item) - set(MEDICATION_FIELDS)
        if unknown:
            raise ValidationError({"medications": f"Unknown medicine fields: {', '.join(sorted(unknown))}."})
        row = IntakeMedication(intake=intake, position=position, **item)
        for flag in screening.classes_from_name(row.name):
            setattr(row, flag, True)
        try:
            row.full_clean(exclude=["intake"])
        except ValidationError as error:
            messages = [f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items()]
            raise ValidationError({"medications": f"Medicine {position + 1}: {' '.join(messages)}"}) from error
        rows.append(row)
    return rows


def _lock_draft(patient, intake):
    """The draft to write to, locked for this transaction. Refuses a submitted intake (IntakeLocked)."""
    if intake is None:
        intake = current_intake(patient, for_update=True)
    else:
        if intake.patient_id != patient.pk:
            raise ValidationError("This intake belongs to another patient.")
        intake = Intake.objects.select_for_update().get(pk=intake.pk)
    if intake is not None and intake.is_locked:
        raise IntakeLocked(intake)
    return intake


def _write(*, actor, patient, intake, data, medications):
    data = dict(data or {})
    _check_fields(data)
    creating = intake is None
    if creating:
        intake = Intake(patient=patient)
    for field, value in data.items():
        setattr(intake, field, "" if value is None and _is_text(field) else value)
    intake.full_clean(exclude=["patient", "submitted_by"], validate_constraints=False)
    intake.save()
    if medications is not None:
        rows = _medication_rows(intake, medications)
        intake.medications.all().delete()
        IntakeMedication.objects.bulk_create(rows)
    audit_record(actor, AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE, intake)
    return intake


def _is_text(field):
    return Intake._meta.get_field(field).get_internal_type() in {"CharField", "TextField"}


@service(Permission.EDIT_INTAKE, on="patient")
def intake_save_draft(*, actor, patient, data: dict, medications: list[dict] | None = None, intake=None) -> Intake:
    """Save answers so far (none are required yet). Creates the draft on first save.

    `data` maps answer fields to values; `medications`, when given, replaces the medicine list
    (each item: name, dose, frequency and class flags; flags implied by the name are ticked).
    Raises IntakeLocked once the intake is submitted."""
    intake = _lock_draft(patient, intake)
    return _write(actor=actor, patient=patient, intake=intake, data=data, medications=medications)


def screening_settings():
    return {
        rule.code: screening.Setting(rule.severity, rule.enabled, rule.limit, rule.second_limit)
        for rule in ScreeningRule.objects.all()
    }


@service(Permission.EDIT_INTAKE, on="patient")
def intake_submit(
    *, actor, patient, data: dict | None = None, medications: list[dict] | None = None, intake=None
) -> Intake:
    """Save any last answers, check the intake is complete, screen it, lock it, and move the patient on.

    Raises ValidationError with a message per missing field (nothing is saved then), or IntakeLocked."""
    intake = _lock_draft(patient, intake)
    if intake is None or data or medications is not None:
        intake = _write(actor=actor, patient=patient, intake=intake, data=data, medications=medications)
    medicines = list(intake.medications.all())
    missing = screening.missing_answers(intake, MEDICAL_CONDITIONS, medicines)
    if missing:
        raise ValidationError(missing)
    findings = screening.screen(intake, medicines, screening_settings(), today=timezone.localdate())
    ScreeningFlag.objects.bulk_create(
        ScreeningFlag(intake=intake, code=finding.code, severity=finding.severity, reason=finding.reason)
        for finding in findings
    )
    intake.status = Intake.Status.SUBMITTED
    intake.submitted_at = timezone.now()
    intake.submitted_by = actor
    intake.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    audit_record(actor, AuditEvent.Action.UPDATE, intake)
    intake_suicidal_thoughts_alert(actor=actor, intake=intake)
    patient_services.patient_mark_intake_submitted(actor=actor, patient=patient)
    return intake


def intake_suicidal_thoughts_alert(*, actor, intake):
    """ "Thoughts of ending your life now = yes" is not only a flag for the evaluation: both clinicians must see
    and acknowledge it now (and the patient is shown crisis resources). Once per intake; None when "no"."""
    if intake.suicidal_thoughts is not True:
        return None
    if intake.suicidal_intent_or_plan is True:
        kind, reason = (
            SafetyAlert.Kind.SUICIDAL_INTENT_ON_INTAKE,
            "The intake reports current suicidal thoughts with intent or a plan.",
        )
    else:
        kind, reason = SafetyAlert.Kind.SUICIDAL_THOUGHTS_ON_INTAKE, "The intake reports current suicidal thoughts."
    return patient_services.safety_alert_raise(
        patient=intake.patient,
        kind=kind,
        reason=reason,
        source=intake,
        severity=SafetyAlert.Severity.URGENT,
        actor=actor,
    )


SUICIDAL_THOUGHTS_KINDS = (SafetyAlert.Kind.SUICIDAL_INTENT_ON_INTAKE, SafetyAlert.Kind.SUICIDAL_THOUGHTS_ON_INTAKE)


def intake_raised_suicidal_alert(intake) -> bool:
    """Whether this intake raised a suicidal-thoughts alert: the patient is then shown crisis resources."""
    return SafetyAlert.objects.filter(
        kind__in=SUICIDAL_THOUGHTS_KINDS, source_type=intake._meta.label_lower, source_id=str(intake.pk)
    ).exists()


# The prescriber's evaluation ---------------------------------------------------------------------

EVALUATION_FIELDS = Evaluation.CONTENT_FIELDS
TEXT_EVALUATION_FIELDS = {
    "psychiatric_assessment",
    "medical_assessment",
    "diagnosis",
    "icd10_code",
    "decision",
    "rationale",
}


def evaluation_locked(evaluation):
    signed = timezone.localtime(evaluation.signed_at)
    return RuleRefused(
        f"This evaluation was signed on {signed:%b} {signed.day}, {signed.year} and is locked: "
        "a signed evaluation never changes. Add a signed addendum instead.",
        code="evaluation_signed",
    )


def latest_submitted_intake(patient):
    return Intake.objects.submitted().filter(patient=patient).order_by("-submitted_at", "-id").first()


def _review_rows(evaluation, reviews):
    """Validate the prescriber's flag reviews against the flags of the evaluation's intake."""
    flags = {flag.pk: flag for flag in (evaluation.intake.flags.all() if evaluation.intake_id else [])}
    rows, seen = [], set()
    for position, item in enumerate(reviews, start=1):
        try:
            flag_id = int(item.get("flag"))
        except (TypeError, ValueError):
            flag_id = None
        flag = flags.get(flag_id)
        if flag is None:
            raise ValidationError(
                {"flag_reviews": f"Review {position}: no such screening flag on this patient's intake."}
            )
        if flag_id in seen:
            raise ValidationError({"flag_reviews": f"Review {position}: this flag is already reviewed above."})
        seen.add(flag_id)
        outcome = item.get("outcome")
        if outcome not in EvaluationFlagReview.Outcome.values:
            raise ValidationError({"flag_reviews": f"Review {position}: choose confirmed or dismissed."})
        reason = (item.get("reason") or "").strip()
        if outcome == EvaluationFlagReview.Outcome.DISMISSED and not reason:
            raise ValidationError({"flag_reviews": f"“{flag.reason}”: say why this flag is dismissed."})
        rows.append(EvaluationFlagReview(evaluation=evaluation, flag=flag, outcome=outcome, reason=reason[:2000]))
    return rows


@service(Permission.WRITE_EVALUATION, on="patient")
def evaluation_save_draft(
    *, actor, patient, data: dict, flag_reviews: list[dict] | None = None, evaluation=None
) -> Evaluation:
    """Save the prescriber's evaluation so far (nothing is required yet). Creates the patient's draft on
    first save. `flag_reviews` ({"flag", "outcome", "reason"} each), when given, replaces the reviews.
    Raises RuleRefused once the evaluation is signed."""
    data = dict(data or {})
    unknown = set(data) - set(EVALUATION_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This is not a field of the evaluation."))
    if evaluation is None:
        evaluation = Evaluation.objects.drafts().select_for_update().filter(patient=patient).first()
    else:
        evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        if evaluation.patient_id != patient.pk:
            raise ValidationError("This evaluation belongs to another patient.")
        if evaluation.is_signed:
            raise evaluation_locked(evaluation)
    creating = evaluation is None
    if creating:
        evaluation = Evaluation(patient=patient)
    evaluation.prescriber = actor
    evaluation.intake = latest_submitted_intake(patient)
    for field, value in data.items():
        setattr(evaluation, field, "" if value is None and field in TEXT_EVALUATION_FIELDS else value)
    evaluation.full_clean(exclude=["patient", "prescriber", "intake"], validate_constraints=False)
    evaluation.save()
    if flag_reviews is not None:
        rows = _review_rows(evaluation, flag_reviews)
        evaluation.flag_reviews.all().delete()
        EvaluationFlagReview.objects.bulk_create(rows)
    else:  # reviews of flags from an intake the evaluation no longer rests on
        evaluation.flag_reviews.exclude(flag__intake_id=evaluation.intake_id).delete()
    audit_record(actor, AuditEvent.Action.CREATE if creating else AuditEvent.Action.UPDATE, evaluation)
    return evaluation


def evaluation_missing(evaluation) -> dict:
    """What stops this draft being signed, as {field: message}; empty when it can be signed."""
    missing = {}
    for name in Evaluation.REQUIRED_TO_SIGN:
        value = getattr(evaluation, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            label = Evaluation._meta.get_field(name).verbose_name
            missing[name] = f"Required before signing: {label}."
    if evaluation.intake_id is not None:
        reviewed = set(evaluation.flag_reviews.values_list("flag_id", flat=True))
        unreviewed = [flag.reason for flag in evaluation.intake.flags.all() if flag.pk not in reviewed]
        if unreviewed:
            missing["flag_reviews"] = "Confirm or dismiss every screening flag before signing. Not reviewed: " + (
                "; ".join(unreviewed)
            )
    return missing


# The rules an "eligible" decision must pass (RuleRefused codes).
EVALUATION_ORDER = "evaluation_after_intake_and_consents"
ABSOLUTE_CONTRAINDICATION = "absolute_contraindication"
BP_RULE = "bp_above_absolute"


def _order_refusal(evaluation):
    """Rule "intake and consents first": the consent page tells the patient they come before the evaluation,
    so a patient is found eligible only once both are done. Ineligible or deferred may be signed earlier
    (a prescriber may rule a patient out, or defer, on what the interview shows)."""
    outstanding = patient_selectors.outstanding_consents(evaluation.patient)
    if evaluation.intake_id is not None and not outstanding:
        return None
    missing = [] if evaluation.intake_id is not None else ["the intake is not submitted"]
    if outstanding:
        titles = "; ".join(document.title for document in outstanding)
        plural = "s" if len(outstanding) > 1 else ""
        missing.append(f"{len(outstanding)} required consent{plural} not signed ({titles})")
    return RuleRefused(
        "Rule “intake and consents before evaluation”: the patient can be found eligible only once the intake is "
        f"submitted and the consents required before the evaluation are signed: {', and '.join(missing)}. "
        "Sign the evaluation ineligible or deferred, or wait until the patient has done these.",
        code=EVALUATION_ORDER,
    )


def _contraindication_refusal(evaluation):
    """Rule "no absolute contraindication": a confirmed absolute flag, or a blood pressure measured at the
    evaluation above the absolute screening limits, rules out "eligible". The prescriber signs ineligible or
    deferred, or dismisses the flag with a written reason (kept on the evaluation and the chart)."""
    confirmed = [
        review.flag.reason
        for review in evaluation.flag_reviews.select_related("flag")
        if review.outcome == EvaluationFlagReview.Outcome.CONFIRMED and review.flag.severity == Severity.ABSOLUTE
    ]
    if confirmed:
        return RuleRefused(
            "Rule “no absolute contraindication”: a patient with a confirmed absolute contraindication cannot be "
            f"found eligible ({'; '.join(confirmed)}). Sign ineligible or deferred, or dismiss the flag with a "
            "written reason if it does not apply.",
            code=ABSOLUTE_CONTRAINDICATION,
        )
    reason = _measured_bp_above_absolute(evaluation)
    if reason:
        return RuleRefused(
            f"Rule “no absolute contraindication”: measured at this evaluation, {reason} (uncontrolled "
            "hypertension). Sign ineligible or deferred, or measure again once it is controlled.",
            code=ABSOLUTE_CONTRAINDICATION,
        )
    return None


def _measured_bp_above_absolute(evaluation):
    """The intake's absolute blood-pressure rule (its limits as the administrator set them), applied to the
    pressure the prescriber measured: the reason, or None."""
    rule = next(rule for rule in screening.RULES if rule.code == BP_RULE)
    stored = ScreeningRule.objects.filter(code=BP_RULE).first()
    setting = (
        screening.Setting(stored.severity, stored.enabled, stored.limit, stored.second_limit)
        if stored
        else rule.default
    )
    if not setting.enabled or setting.severity != Severity.ABSOLUTE:
        return None
    return rule.check(evaluation, [], setting, timezone.localdate())


def evaluation_refusal(evaluation):
    """The rule that keeps this (complete) evaluation from being signed as it stands, or None."""
    if evaluation.decision != Evaluation.Decision.ELIGIBLE:
        return None
    return _order_refusal(evaluation) or _contraindication_refusal(evaluation)


@service(Permission.WRITE_EVALUATION, on="evaluation")
def evaluation_sign(*, actor, evaluation) -> Evaluation:
    """Sign and lock the evaluation. Refused (ValidationError naming each missing field) until the vitals,
    assessments, diagnosis, decision and rationale are filled and every screening flag of the submitted
    intake is confirmed or dismissed; refused (RuleRefused) without the signer's current credentials for the
    patient's state, and "eligible" before the intake and consents or over an absolute contraindication.
    The patient's stage follows in treatment.course.services.evaluation_sign_and_advance_course."""
    evaluation = Evaluation.objects.select_for_update(of=("self",)).select_related("intake").get(pk=evaluation.pk)
    if evaluation.is_signed:
        raise evaluation_locked(evaluation)
    intake = latest_submitted_intake(evaluation.patient)
    if intake is not None and intake.pk != evaluation.intake_id:
        evaluation.intake = intake
        evaluation.flag_reviews.exclude(flag__intake_id=intake.pk).delete()
    missing = evaluation_missing(evaluation)
    if missing:
        raise ValidationError(missing)
    evaluation.full_clean(exclude=["patient", "prescriber", "intake"], validate_constraints=False)
    credentials.require_to_sign(actor, evaluation.patient, "this evaluation")
    refusal = evaluation_refusal(evaluation)
    if refusal is not None:
        raise refusal
    supervision_consider_on_commit("evaluation", evaluation)
    return record_sign(evaluation, actor=actor, prescriber=actor)


@service(Permission.WRITE_EVALUATION, on="evaluation")
def evaluation_add_addendum(*, actor, evaluation, text: str) -> EvaluationAddendum:
    """A signed correction or addition to a signed evaluation, by the prescriber on the care team."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    if len(text) > 5000:
        raise ValidationError({"text": "Keep an addendum under 5,000 characters."})
    unsigned = RuleRefused(
        "Addenda are for signed evaluations: this one is still a draft, so change it directly.",
        code="evaluation_not_signed",
    )
    return record_addendum(
        evaluation, EvaluationAddendum, actor=actor, link="evaluation", unsigned=unsigned, text={"text": text}
    )

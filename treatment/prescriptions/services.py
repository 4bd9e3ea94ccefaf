"""Writes of prescriptions: the PDMP attestation, issuing, cancelling and the fills. Keyword-only, actor first,
atomic (kapcare.services.service), audited. Every refused rule is a RuleRefused naming the rule (409)."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

from kapcare.access import Permission
from kapcare.accounts import credentials
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from kapcare.signing.models import content_sha256
from kapcare.us_states import USState
from patients.models import Patient
from treatment.course.models import DosePlan
from treatment.course.selectors import ledger

from . import rules, selectors
from .models import PDMPCheck, PharmacyNotice, Prescription, PrescriptionFill

PRESCRIPTION_FIELDS = (
    "strength_mg",
    "directions",
    "quantity",
    "quantity_reason",
    "refills",
    "days_supply",
    "pharmacy_name",
    "pharmacy_address",
    "pharmacy_phone",
    "pharmacy_ncpdp_id",
    "channel",
    "telemedicine_attested",
    "refills_left_reason",
)


def _text(value, field, *, required=False, limit=2000):
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "This field is required."})
    if len(value) > limit:
        raise ValidationError({field: f"Keep it under {limit} characters."})
    return value


@service(Permission.WRITE_PRESCRIPTION, on="patient")
def pdmp_check_record(*, actor, patient, checked_on, state: str, result: str, note: str = "") -> PDMPCheck:
    """Attest a PDMP check for the patient (date, state, result, note). A check that found concerns says what."""
    today = timezone.localdate()
    if checked_on is None or checked_on > today:
        raise ValidationError({"checked_on": "Give the day the PDMP was checked (not a future day)."})
    if state not in USState.values:
        raise ValidationError({"state": "Choose a US state."})
    if result not in PDMPCheck.Result.values:
        raise ValidationError({"result": "Choose the result of the check."})
    note = _text(note, "note", required=result == PDMPCheck.Result.CONCERNS)
    check = PDMPCheck.objects.create(
        patient=patient, prescriber=actor, checked_on=checked_on, state=state, result=result, note=note
    )
    audit_record(actor, AuditEvent.Action.CREATE, check)
    return check


def _require_fresh_pdmp(patient, policy, today):
    check = selectors.latest_pdmp_check(patient, patient.state)
    oldest = today - timedelta(days=policy.pdmp_max_age_days)
    if check is None or check.checked_on < oldest:
        found = f"the latest was on {check.checked_on}" if check else "none is recorded"
        raise RuleRefused(
            f"Rule “PDMP check before prescribing”: a PDMP check in {patient.get_state_display()} within "
            f"{policy.pdmp_max_age_days} days is attested before each new prescription; {found}.",
            code="pdmp_check_required",
        )
    return check


def _require_dea(actor, patient, today):
    registration = selectors.dea_for_state(actor, patient.state, today)
    gap = credentials.licence_gap(actor, patient.state, today) or credentials.dea_gap(actor, patient.state, today)
    if registration is None or gap:
        missing = gap or f"no current DEA registration for {patient.get_state_display()}"
        raise RuleRefused(
            f"Rule “registration for the patient's state”: {actor} cannot prescribe a controlled substance for a "
            f"patient in {patient.get_state_display()}: {missing}.",
            code="dea_registration_for_state",
        )
    return registration


def _check_telemedicine(actor, patient, policy, attested, today):
    """(encounter, last in-person visit): without an in-person visit the prescriber held, the policy's
    telemedicine rule applies and the prescriber attests it."""
    encounter, last_in_person = selectors.encounter_facts(patient, actor)
    if last_in_person is not None:
        return encounter, last_in_person
    if policy.telemedicine_rule == "in_person" or today > policy.telemedicine_flexibility_until:
        raise RuleRefused(
            "Rule “telemedicine prescribing”: the medical group's policy needs an in-person visit before a "
            "controlled substance is prescribed, and none is recorded.",
            code="in_person_visit_required",
        )
    if not attested:
        raise RuleRefused(
            "Rule “telemedicine prescribing”: no in-person visit is recorded. Attest that the evaluation was a "
            "real-time audio-video encounter under the DEA telemedicine flexibilities (until "
            f"{policy.telemedicine_flexibility_until}).",
            code="telemedicine_attestation_required",
        )
    return encounter, last_in_person


def _clean_prescription_data(data, plan):
    values = {name: data.get(name) for name in PRESCRIPTION_FIELDS}
    errors = {}
    try:
        values["quantity"] = Decimal(str(values["quantity"])) if values["quantity"] not in (None, "") else None
        strength = values["strength_mg"] if values["strength_mg"] not in (None, "") else plan.tablet_strength_mg
        values["strength_mg"] = Decimal(str(strength)) if strength is not None else None
    except InvalidOperation:
        raise ValidationError({"quantity": "Give a number."}) from None
    if not values["strength_mg"] or values["strength_mg"] <= 0:
        errors["strength_mg"] = "Give the strength (mg per tablet, or mg per mL)."
    elif plan.tablet_strength_mg and values["strength_mg"] != plan.tablet_strength_mg:
        errors["strength_mg"] = f"The dose plan's tablets are {plan.tablet_strength_mg} mg."
    whole = plan.route != DosePlan.Route.INTRAMUSCULAR
    if values["quantity"] is not None and (values["quantity"] <= 0 or (whole and values["quantity"] % 1)):
        errors["quantity"] = "Give a positive quantity (whole tablets)."
    if values["channel"] not in Prescription.Channel.values:
        errors["channel"] = "Choose how the prescription reaches the pharmacy."
    if errors:
        raise ValidationError(errors)
    values["refills"] = int(values["refills"] or 0)
    values["telemedicine_attested"] = bool(values["telemedicine_attested"])
    return values


@service(Permission.WRITE_PRESCRIPTION, on="patient")
def prescription_issue(*, actor, patient, data: dict) -> Prescription:
    """Issue a prescription for the active signed dose plan, under the prescriber's DEA registration for the
    patient's state, after a fresh PDMP check; Schedule III limits and the plan's authorized doses bound it."""
    today = timezone.localdate()
    # One prescribing at a time per patient, so a double submit meets the first prescription's supply.
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    plan = selectors.active_plan(patient)
    if plan is None or plan.route not in rules.FORMULATION_OF_ROUTE or not plan.full_dose_mg:
        raise RuleRefused("Rule “prescription from a signed dose plan”: no signed dose plan.", code="no_dose_plan")
    values = _clean_prescription_data(data, plan)
    rules.check_refills(values["refills"])
    policy = selectors.policy_for(patient)
    registration = _require_dea(actor, patient, today)
    pdmp = _require_fresh_pdmp(patient, policy, today)
    encounter, last_in_person = _check_telemedicine(actor, patient, policy, values["telemedicine_attested"], today)
    derived = rules.units_per_session(plan, values["strength_mg"]) * ledger(plan.course).remaining
    other_supply = selectors.supply_on_plan(plan)
    if values["quantity"] is None:
        values["quantity"] = rules.quantity_per_fill(
            derived - other_supply, values["refills"], whole=plan.route != DosePlan.Route.INTRAMUSCULAR
        )
    values["quantity_reason"] = _text(values["quantity_reason"], "quantity_reason")
    rules.check_quantity(
        quantity=values["quantity"],
        refills=values["refills"],
        need=derived,
        other_supply=other_supply,
        reason=values["quantity_reason"],
    )
    values["refills_left_reason"] = _text(values["refills_left_reason"], "refills_left_reason")
    if selectors.with_fills_left(patient, today) and not values["refills_left_reason"]:
        raise RuleRefused(
            "Rule “one supply at a time”: an earlier prescription can still be filled; give the reason for a new "
            "one (or cancel the earlier one).",
            code="refills_left_reason_required",
        )
    prescription = Prescription(
        patient=patient,
        course=plan.course,
        dose_plan=plan,
        prescriber=actor,
        dea_registration=registration,
        pdmp_check=pdmp,
        medication=plan.medication,
        formulation=rules.FORMULATION_OF_ROUTE[plan.route],
        quantity_derived=derived,
        issued_on=today,
        evaluation_encounter=encounter,
        last_in_person_on=last_in_person,
        directions=_text(values.pop("directions"), "directions", required=True),
        **{name: value for name, value in values.items() if name != "directions"},
    )
    prescription.full_clean(exclude=["patient", "course", "dose_plan", "prescriber", "content_hash"])
    prescription.content_hash = content_sha256(prescription.signed_content())
    prescription.save()
    audit_record(actor, AuditEvent.Action.CREATE, prescription)
    _notify_pharmacy(actor, prescription, PharmacyNotice.Kind.NEW)
    return prescription


def _notify_pharmacy(actor, prescription, kind, reason=""):
    notice = PharmacyNotice.objects.create(
        prescription=prescription,
        patient_id=prescription.patient_id,
        kind=kind,
        channel=prescription.channel,
        reason=reason,
        sent_by=actor,
    )
    audit_record(actor, AuditEvent.Action.CREATE, notice)
    return notice


@service(Permission.WRITE_PRESCRIPTION, on="prescription")
def prescription_cancel(*, actor, prescription, reason: str) -> Prescription:
    """Cancel an issued prescription; the reason goes to the pharmacy (a PharmacyNotice by its channel)."""
    reason = _text(reason, "reason", required=True)
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    if not prescription.is_active:
        raise RuleRefused("This prescription is already cancelled.", code="prescription_cancelled")
    prescription.status = Prescription.Status.CANCELLED
    prescription.cancelled_at = timezone.now()
    prescription.cancelled_by = actor
    prescription.cancel_reason = reason
    prescription.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    audit_record(actor, AuditEvent.Action.UPDATE, prescription, fields=["status"])
    _notify_pharmacy(actor, prescription, PharmacyNotice.Kind.CANCEL, reason)
    return prescription


@service(Permission.RECORD_FILL, on="prescription")
def fill_record(*, actor, prescription, filled_on, method: str, quantity=None) -> PrescriptionFill:
    """Record the medicine in the patient's hands (picked up or delivered): the first fill or a refill, within
    the Schedule III limits (the prescription's refills, 6 months from the issue date)."""
    if method not in PrescriptionFill.Method.values:
        raise ValidationError({"method": "Choose pickup or delivery."})
    if filled_on is None:
        raise ValidationError({"filled_on": "Give the day."})
    prescription = Prescription.objects.select_for_update().get(pk=prescription.pk)
    quantity = prescription.quantity if quantity in (None, "") else Decimal(str(quantity))
    if not Decimal("0") < quantity <= prescription.quantity:
        raise ValidationError({"quantity": f"A fill is at most the prescribed {prescription.quantity}."})
    number = selectors.fill_count(prescription)
    rules.check_fill(prescription, number=number, filled_on=filled_on, today=timezone.localdate())
    fill = PrescriptionFill.objects.create(
        prescription=prescription,
        patient_id=prescription.patient_id,
        number=number,
        filled_on=filled_on,
        method=method,
        quantity=quantity,
        recorded_by=actor,
    )
    audit_record(actor, AuditEvent.Action.CREATE, fill)
    return fill

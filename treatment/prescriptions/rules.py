"""The Schedule III and prescribing rules, as pure functions over the facts the services read."""

import math
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from dateutil.relativedelta import relativedelta

from kapcare.rules import RuleRefused
from treatment.course.models import DosePlan

from .models import MAX_REFILLS, REFILL_MONTHS, Prescription

FORMULATION_OF_ROUTE = {
    DosePlan.Route.SUBLINGUAL_RDT: Prescription.Formulation.SUBLINGUAL_RDT,
    DosePlan.Route.TROCHE: Prescription.Formulation.TROCHE,
    DosePlan.Route.INTRAMUSCULAR: Prescription.Formulation.IM_SOLUTION,
}


def last_fill_day(issued_on: date) -> date:
    """The last day a fill or refill may happen: 6 months after the issue date."""
    return issued_on + relativedelta(months=REFILL_MONTHS)


def units_per_session(plan: DosePlan, strength_mg: Decimal) -> Decimal:
    """Tablets (whole) or mL (to 0.1, rounded up) one dosing session of the plan needs, boosters included."""
    boosters = plan.booster_count if plan.boosters_allowed else 0
    if plan.route == DosePlan.Route.INTRAMUSCULAR:
        mg = plan.full_dose_mg + boosters * (plan.booster_mg or 0)
        return (mg / strength_mg).quantize(Decimal("0.1"), rounding=ROUND_UP)
    tablets = math.ceil(plan.full_dose_mg / strength_mg)
    if boosters:
        tablets += boosters * math.ceil(plan.booster_mg / strength_mg)
    return Decimal(tablets)


def quantity_per_fill(need, refills, *, whole: bool) -> Decimal:
    """The quantity each fill supplies (whole tablets, or mL to 0.1) so that the fills together cover `need`
    without going over."""
    per_fill = max(Decimal(need) / (1 + refills), Decimal("0"))
    return per_fill.quantize(Decimal("1") if whole else Decimal("0.1"), rounding=ROUND_DOWN)


def check_refills(refills: int):
    if refills is None or refills < 0 or refills > MAX_REFILLS:
        raise RuleRefused(
            f"Rule “Schedule III refills”: ketamine is Schedule III, so a prescription allows at most "
            f"{MAX_REFILLS} refills; {refills} asked.",
            code="schedule_iii_refills",
        )


def check_quantity(*, quantity, refills, need, other_supply, reason):
    """The quantity times its fills (the first and the refills) stays within what the plan's authorized doses
    still need; a total other than that need says why."""
    total = quantity * (1 + refills)
    if total + other_supply != need and not reason:
        raise RuleRefused(
            f"Rule “quantity from the dose plan”: the doses the plan still authorizes need {need}; give the reason "
            f"for {quantity} with {refills} refill(s) ({total}).",
            code="quantity_reason_required",
        )
    if total + other_supply > need:
        already = f" ({other_supply} already prescribed on this plan)" if other_supply else ""
        raise RuleRefused(
            f"Rule “quantity bound by the plan”: the doses the plan still authorizes need at most {need}; "
            f"{quantity} with {refills} refill(s) is {total}{already}.",
            code="quantity_over_plan",
        )


def check_fill(prescription: Prescription, *, number: int, filled_on: date, today: date):
    """A fill of `prescription` on `filled_on` as fill `number` (0: the first fill)."""
    if not prescription.is_active:
        raise RuleRefused("This prescription is cancelled: nothing more is filled on it.", code="cancelled")
    if filled_on > today:
        raise RuleRefused("A fill is recorded once it happened: the date is in the future.", code="fill_in_future")
    if filled_on < prescription.issued_on:
        raise RuleRefused("A fill happens on or after the issue date.", code="fill_before_issue")
    if number > prescription.refills:
        raise RuleRefused(
            f"Rule “Schedule III refills”: this prescription allows {prescription.refills} refill(s), and every "
            "one is filled. A new prescription is needed.",
            code="no_refills_left",
        )
    last_day = last_fill_day(prescription.issued_on)
    if filled_on > last_day:
        raise RuleRefused(
            f"Rule “Schedule III six months”: no fill or refill more than 6 months after the issue date "
            f"({prescription.issued_on}); the last day was {last_day}.",
            code="schedule_iii_six_months",
        )


def fills_left(prescription: Prescription, fills: int, today: date) -> int:
    """Fills (the first and the refills) still usable: none once cancelled or past the 6 months."""
    if not prescription.is_active or today > last_fill_day(prescription.issued_on):
        return 0
    return max(prescription.refills + 1 - fills, 0)

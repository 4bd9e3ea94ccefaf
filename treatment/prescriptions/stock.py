"""The controlled-substance log of a site (in-office intramuscular dosing) and the take-home tablet counts.

Every entry is in mg of ketamine and belongs to a lot opened by a receipt. The running balance of a lot is its
receipts less its administrations and witnessed waste; it never goes negative (the site is locked while an entry
is written). A count records what was physically there against that balance; the discrepancy report lists the
counts that did not balance and the administrations that do not match the dose recorded in their session."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Q, Sum
from django.utils import timezone

from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record
from kapcare.rules import RuleRefused
from kapcare.services import service
from patients import services as patient_services
from patients.models import SafetyAlert
from treatment.sessions.models import BoosterDose, DosingRecord, TherapySession

from .models import MedicineCount, PrescriptionFill, StockEntry, StockSite

Kind = StockEntry.Kind
DRAWS = (Kind.ADMINISTRATION, Kind.WASTE)
COUNT_DISCREPANCY = SafetyAlert.Kind.MEDICINE_COUNT_DISCREPANCY


WITNESS_TRIES = 5  # wrong witness passwords before the witness's confirmation pauses
WITNESS_PAUSE_SECONDS = 15 * 60


def visible_stock_sites(user):
    """The sites whose log the user keeps: every site of a prescriber's medical group, and the sites a clinician
    works at (StockSite.clinicians)."""
    if not user.is_authenticated or user.role not in User.CLINICIAN_ROLES:
        return StockSite.objects.none()
    works_here = Q(clinicians=user)
    if user.role == User.Role.PRESCRIBER and user.organization_id:
        works_here |= Q(medical_group_id=user.organization_id)
    return StockSite.objects.filter(pk__in=StockSite.objects.filter(works_here).values("pk"))


def managed_stock_sites(user):
    """The sites a coordinator manages (names, addresses, who works there; not their log): their group's."""
    if user.is_authenticated and user.role == User.Role.COORDINATOR and user.organization_id:
        return StockSite.objects.filter(medical_group_id=user.organization_id)
    return StockSite.objects.none()


def group_clinicians(medical_group_id):
    """The active clinicians of a medical group: its prescribers and the therapists of the practices referring
    to it (the people who may work at its sites or witness a waste there)."""
    of_group = Q(organization_id=medical_group_id) | Q(organization__medical_group_id=medical_group_id)
    return User.objects.filter(of_group, role__in=User.CLINICIAN_ROLES, is_active=True).order_by(
        "last_name", "first_name"
    )


@service(Permission.MANAGE_STOCK_SITES, object_type="treatment.stocksite")
def stock_site_create(*, actor, name: str, address: str, clinicians=()) -> StockSite:
    """A coordinator adds a site of their medical group that holds stock, and the clinicians working there."""
    name, address = (name or "").strip(), (address or "").strip()
    if not name or not address:
        raise ValidationError({"name": "Give the site's name and address."})
    if StockSite.objects.filter(medical_group_id=actor.organization_id, name__iexact=name).exists():
        raise ValidationError({"name": "The medical group has a site of that name already."})
    allowed = set(group_clinicians(actor.organization_id).values_list("pk", flat=True))
    if any(clinician.pk not in allowed for clinician in clinicians):
        raise ValidationError({"clinicians": "Choose clinicians of the medical group."})
    site = StockSite.objects.create(medical_group_id=actor.organization_id, name=name, address=address)
    site.clinicians.set(clinicians)
    audit_record(actor, AuditEvent.Action.CREATE, site)
    return site


def lot_balance(site, lot) -> Decimal:
    entries = StockEntry.objects.filter(site=site, lot=lot)
    totals = entries.aggregate(
        received=Sum("quantity_mg", filter=Q(kind=Kind.RECEIPT)),
        drawn=Sum("quantity_mg", filter=Q(kind__in=DRAWS)),
    )
    return (totals["received"] or Decimal("0")) - (totals["drawn"] or Decimal("0"))


@dataclass(frozen=True)
class Lot:
    lot: str
    expires_on: object
    received: Decimal
    balance: Decimal


def lots_of(site) -> list[Lot]:
    """The site's lots (oldest receipt first) with what was received and their running balance, in one query."""
    rows = (
        StockEntry.objects.filter(site=site)
        .values("lot")
        .annotate(
            received=Sum("quantity_mg", filter=Q(kind=Kind.RECEIPT)),
            drawn=Sum("quantity_mg", filter=Q(kind__in=DRAWS)),
            expires_on=Max("expires_on", filter=Q(kind=Kind.RECEIPT)),
            first=Min("recorded_at"),
        )
        .order_by("first", "lot")
    )
    zero = Decimal("0")
    return [
        Lot(row["lot"], row["expires_on"], row["received"] or zero, (row["received"] or zero) - (row["drawn"] or zero))
        for row in rows
        if row["received"]
    ]


def site_balance(site) -> Decimal:
    lots = StockEntry.objects.filter(site=site, kind=Kind.RECEIPT).values_list("lot", flat=True).distinct()
    return sum((lot_balance(site, lot) for lot in lots), Decimal("0"))


def _locked(site):
    return StockSite.objects.select_for_update().get(pk=site.pk)


def _require_site(actor, site):
    if not visible_stock_sites(actor).filter(pk=site.pk).exists():
        raise ValidationError({"site": "No such site in your medical group."})


def _mg(value, field="quantity_mg"):
    try:
        value = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({field: "Give a number of mg."}) from None
    if value <= 0:
        raise ValidationError({field: "Give a positive number of mg."})
    return value


def _entry(actor, site, **fields):
    entry = StockEntry.objects.create(site=site, recorded_by=actor, **fields)
    audit_record(actor, AuditEvent.Action.CREATE, entry)
    return entry


@service(Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stockentry")
def stock_receive(*, actor, site, lot: str, expires_on, quantity_mg, note: str = "") -> StockEntry:
    """A receipt opens a lot: its number, expiry and the mg received."""
    _require_site(actor, site)
    lot = (lot or "").strip()
    if not lot or expires_on is None:
        raise ValidationError({"lot": "Give the lot number and its expiry."})
    site = _locked(site)
    if StockEntry.objects.filter(site=site, lot=lot, kind=Kind.RECEIPT).exclude(expires_on=expires_on).exists():
        raise ValidationError({"expires_on": "This lot was received before with another expiry."})
    return _entry(
        actor, site, kind=Kind.RECEIPT, lot=lot, expires_on=expires_on, quantity_mg=_mg(quantity_mg), note=note
    )


def _draw(actor, site, lot, quantity_mg, **fields):
    site = _locked(site)
    receipt = StockEntry.objects.filter(site=site, lot=lot, kind=Kind.RECEIPT).first()
    if receipt is None:
        raise ValidationError({"lot": "No lot of that number was received at this site."})
    if receipt.expires_on < timezone.localdate():
        raise RuleRefused(f"Lot {lot} expired on {receipt.expires_on}: it is wasted, not given.", code="lot_expired")
    balance = lot_balance(site, lot)
    if quantity_mg > balance:
        raise RuleRefused(
            f"Rule “the balance never goes negative”: lot {lot} holds {balance} mg; {quantity_mg} mg is more. "
            "Record the receipt first, or count the lot.",
            code="stock_negative_balance",
        )
    return _entry(actor, site, lot=lot, quantity_mg=quantity_mg, **fields)


def session_dose_mg(session) -> Decimal:
    """The mg recorded as given in a dosing session: the dose and its boosters."""
    dose = DosingRecord.objects.filter(session=session).values_list("dose_mg", flat=True).first() or 0
    boosters = BoosterDose.objects.filter(session=session).aggregate(mg=Sum("dose_mg"))["mg"] or 0
    return Decimal(dose) + Decimal(boosters)


@service(Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stockentry")
def stock_administer(*, actor, site, lot: str, session, quantity_mg=None) -> StockEntry:
    """An administration from a lot, linked to the in-office dosing session whose dose it gave (by default the
    dose and boosters recorded there). One per session."""
    _require_site(actor, site)
    if not session.is_dosing or session.patient.medical_group_id != site.medical_group_id:
        raise ValidationError({"session": "Choose a dosing session of a patient of this medical group."})
    if session.modality != TherapySession.Modality.IN_PERSON:
        raise RuleRefused("An in-office administration belongs to an in-person dosing session.", code="not_in_office")
    given = session_dose_mg(session)
    if not given:
        raise RuleRefused("The session's dose is not recorded yet: record it first.", code="dose_not_taken")
    if StockEntry.objects.filter(session=session, kind=Kind.ADMINISTRATION).exists():
        raise RuleRefused("This session's administration is already in the log.", code="administration_recorded")
    quantity = given if quantity_mg in (None, "") else _mg(quantity_mg)
    return _draw(actor, site, lot, quantity, kind=Kind.ADMINISTRATION, session=session, patient_id=session.patient_id)


def _witness_key(witness):
    return f"stock-waste-witness-failures:{witness.pk}"


def _require_witness(actor, site, witness):
    group = site.medical_group_id
    of_group = witness.organization_id == group or getattr(witness.organization, "medical_group_id", None) == group
    if witness.pk == actor.pk or not witness.is_clinician or not witness.is_active or not of_group:
        raise RuleRefused(
            "Rule “witnessed waste”: a second clinician of the medical group witnesses the waste.",
            code="waste_witness",
        )


def _confirm_witness(*, actor, site, witness, witness_password, **_):
    """The witness confirms the waste with their own password, at the moment of the waste. A wrong password is
    audited as a denied attempt (kept: this runs before the service's transaction) and nothing is written; after
    WITNESS_TRIES wrong ones the witness's confirmations pause, so nobody guesses a colleague's password here."""
    _require_site(actor, site)
    _require_witness(actor, site, witness)
    key = _witness_key(witness)
    if cache.get(key, 0) >= WITNESS_TRIES:
        raise RuleRefused(
            "Rule “witnessed waste”: too many wrong witness passwords; the witness's confirmation is paused for "
            "15 minutes.",
            code="witness_confirmation_paused",
        )
    if witness_password and witness.is_active and witness.check_password(witness_password):
        cache.delete(key)
        return
    cache.add(key, 0, WITNESS_PAUSE_SECONDS)
    cache.incr(key)
    audit_denied(actor, AuditEvent.Action.CREATE, object_type="treatment.stockentry", object_id="")
    raise ValidationError(
        {"witness_password": "The witness's password is not right: the witness types their own password."}
    )


@service(Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stockentry", before=_confirm_witness)
def stock_waste(*, actor, site, lot: str, quantity_mg, witness, witness_password: str, note: str) -> StockEntry:
    """Waste from a lot, witnessed by a second clinician of the medical group, who confirms it with their own
    password there and then, with what happened."""
    _require_site(actor, site)
    _require_witness(actor, site, witness)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what was wasted and why."})
    return _draw(actor, site, lot, _mg(quantity_mg), kind=Kind.WASTE, witness=witness, note=note[:300])


@service(Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stockentry")
def stock_count(*, actor, site, lot: str, counted_mg, note: str = "") -> StockEntry:
    """A physical count of a lot, kept with the balance the log expected then."""
    _require_site(actor, site)
    site = _locked(site)
    if not StockEntry.objects.filter(site=site, lot=lot, kind=Kind.RECEIPT).exists():
        raise ValidationError({"lot": "No lot of that number was received at this site."})
    counted = Decimal(str(counted_mg))
    if counted < 0:
        raise ValidationError({"counted_mg": "A count is 0 or more."})
    expected = lot_balance(site, lot)
    return _entry(actor, site, kind=Kind.COUNT, lot=lot, quantity_mg=counted, expected_mg=expected, note=note)


@dataclass(frozen=True)
class Discrepancy:
    entry: StockEntry
    what: str


def discrepancy_report(site) -> list[Discrepancy]:
    """Counts that did not balance, and administrations that do not match their session's recorded dose."""
    found = []
    for entry in StockEntry.objects.filter(site=site, kind__in=[Kind.COUNT, Kind.ADMINISTRATION]).select_related(
        "session"
    ):
        if entry.kind == Kind.COUNT and entry.discrepancy_mg:
            found.append(
                Discrepancy(
                    entry, f"Lot {entry.lot}: counted {entry.quantity_mg} mg, the log says {entry.expected_mg}."
                )
            )
        elif entry.kind == Kind.ADMINISTRATION and entry.quantity_mg != session_dose_mg(entry.session):
            found.append(
                Discrepancy(
                    entry,
                    f"Lot {entry.lot}: {entry.quantity_mg} mg logged for a session whose record says "
                    f"{session_dose_mg(entry.session)} mg.",
                )
            )
    return found


# Take-home medicine ----------------------------------------------------------------------------------------


def expected_remaining(patient) -> Decimal:
    """Tablets the patient should hold: every fill of their tablet prescriptions (cancelled since or not: what
    was picked up is in hand), less the tablets of each dose and booster taken in their sessions since the first
    fill, except the sessions given from an office's stock."""
    fills = PrescriptionFill.objects.filter(patient=patient).exclude(prescription__formulation="im_solution")
    first = fills.order_by("filled_on").first()
    if first is None:
        return Decimal("0")
    strength = first.prescription.strength_mg
    received = fills.aggregate(q=Sum("quantity"))["q"] or Decimal("0")
    from_stock = StockEntry.objects.filter(patient=patient, kind=Kind.ADMINISTRATION).values("session_id")
    since = {"session__patient": patient, "session__scheduled_at__date__gte": first.filled_on}
    doses = DosingRecord.objects.filter(**since, dose_taken_at__isnull=False).exclude(session_id__in=from_stock)
    taken = doses.aggregate(mg=Sum("dose_mg"))["mg"] or 0
    boosters = BoosterDose.objects.filter(**since).exclude(session_id__in=from_stock)
    taken += boosters.aggregate(mg=Sum("dose_mg"))["mg"] or 0
    return received - (Decimal(taken) / strength).quantize(Decimal("0.1"))


@service(Permission.RECORD_FILL, on="patient")
def medicine_count_record(*, actor, patient, remaining, session=None) -> MedicineCount:
    """Tablets remaining, reported by the patient or counted at a dosing session; a mismatch with what the fills
    and doses leave raises a safety alert to the prescriber."""
    try:
        remaining = Decimal(str(remaining))
    except ArithmeticError:
        raise ValidationError({"remaining": "Give the number of tablets left."}) from None
    if remaining < 0:
        raise ValidationError({"remaining": "Give the number of tablets left (0 or more)."})
    if session is not None and (session.patient_id != patient.pk or not session.is_dosing):
        raise ValidationError({"session": "Choose a dosing session of this patient."})
    source = MedicineCount.Source.PATIENT if actor.is_patient else MedicineCount.Source.CLINICIAN
    count = MedicineCount.objects.create(
        patient=patient,
        session=session,
        source=source,
        remaining=remaining,
        expected=expected_remaining(patient),
        recorded_by=actor,
    )
    audit_record(actor, AuditEvent.Action.CREATE, count)
    if count.discrepancy:
        patient_services.safety_alert_raise(
            patient=patient,
            kind=COUNT_DISCREPANCY,
            reason=f"Take-home tablets: {count.remaining} counted, {count.expected} expected.",
            source=count,
            severity=SafetyAlert.Severity.MODERATE,
            actor=actor,
        )
    return count

"""Reads of prescriptions, PDMP checks and fills, always starting from the patients the user may see."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone

from assessments.models import Evaluation
from kapcare.accounts.models import DEARegistration, User
from patients.access import visible_patients
from treatment.course.models import CarePolicy, DosePlan
from treatment.course.selectors import ledger
from treatment.sessions.models import TherapySession
from treatment.visits.models import Visit

from . import rules
from .models import MedicineCount, PDMPCheck, Prescription, PrescriptionFill
from .rules import fills_left


def visible_prescriptions(user):
    return Prescription.objects.filter(patient__in=visible_patients(user))


def prescriptions_of(user, patient):
    """The patient's prescriptions, newest first, with their fill counts (one query)."""
    return list(
        visible_prescriptions(user)
        .filter(patient=patient)
        .select_related("dea_registration", "prescriber", "pdmp_check")
        .annotate(fill_count=Count("fills"))
    )


def active_plan(patient):
    return DosePlan.objects.signed().filter(patient=patient, course__ended_at__isnull=True).first()


def dea_for_state(prescriber, state, today=None):
    """The prescriber's current, verified DEA registration for the state, or None."""
    today = today or timezone.localdate()
    registrations = DEARegistration.objects.filter(
        clinician=prescriber, state=state, expires_on__gte=today, verified_at__isnull=False
    )
    return registrations.order_by("-expires_on").first()


def latest_pdmp_check(patient, state):
    return PDMPCheck.objects.filter(patient=patient, state=state).order_by("-checked_on", "-created_at").first()


def held_visits(patient, prescriber, now=None):
    """The prescriber's visits with the patient that took place: booked, begun, and their record signed since
    (the follow-up the visit was for, or an evaluation of the patient by that prescriber). A booking alone, a
    missed visit, or a visit with another prescriber is not a visit this prescriber held."""
    now = now or timezone.now()
    evaluated = Evaluation.objects.signed().filter(
        patient=patient, prescriber=prescriber, signed_at__gte=OuterRef("starts_at")
    )
    return Visit.objects.alias(evaluated=Exists(evaluated)).filter(
        Q(kind=Visit.Kind.EVALUATION, evaluated=True) | Q(follow_up__signed_at__gte=F("starts_at")),
        patient=patient,
        prescriber=prescriber,
        status=Visit.Status.BOOKED,
        starts_at__lte=now,
    )


def encounter_facts(patient, prescriber, now=None):
    """(the evaluation's encounter, the date of the last in-person visit or None), from the visits the
    prescriber held with the patient."""
    held = held_visits(patient, prescriber, now)
    evaluation = held.filter(kind=Visit.Kind.EVALUATION).order_by("-starts_at").values_list("encounter", flat=True)
    encounter = evaluation.first()
    last = held.filter(encounter=Visit.Encounter.IN_PERSON).aggregate(last=Max("starts_at"))["last"]
    kinds = {
        Visit.Encounter.IN_PERSON: Prescription.Encounter.IN_PERSON,
        Visit.Encounter.VIDEO: Prescription.Encounter.TELEMEDICINE,
    }
    return kinds.get(encounter, Prescription.Encounter.NOT_RECORDED), (timezone.localdate(last) if last else None)


def supply_on_plan(plan, *, exclude=None):
    """What the plan's issued prescriptions supply in all (quantity times the first fill and the refills)."""
    total = 0
    for quantity, refills in (
        Prescription.objects.filter(dose_plan=plan, status=Prescription.Status.ISSUED)
        .exclude(pk=getattr(exclude, "pk", None))
        .values_list("quantity", "refills")
    ):
        total += quantity * (1 + refills)
    return total


def with_fills_left(patient, today=None):
    """The patient's issued prescriptions that may still be filled."""
    today = today or timezone.localdate()
    found = Prescription.objects.filter(patient=patient, status=Prescription.Status.ISSUED).annotate(n=Count("fills"))
    return [p for p in found if fills_left(p, p.n, today)]


def fill_count(prescription):
    return PrescriptionFill.objects.filter(prescription=prescription).count()


def policy_for(patient):
    return CarePolicy.for_group(patient.medical_group_id)


def visible_pdmp_checks(user):
    return PDMPCheck.objects.filter(patient__in=visible_patients(user))


def visible_medicine_counts(user):
    return MedicineCount.objects.filter(patient__in=visible_patients(user))


def stock_sites_of(user):
    """The sites whose log the user keeps, with their entries (oldest first), in two queries."""
    from .stock import visible_stock_sites

    return list(visible_stock_sites(user).prefetch_related("entries"))


def stock_site_of(user, site_id):
    from .stock import visible_stock_sites

    return visible_stock_sites(user).filter(pk=site_id).first()


def dosing_session_of(user, patient, session_id):
    return TherapySession.objects.filter(patient__in=visible_patients(user), patient=patient, pk=session_id).first()


def clinician(user_id):
    """A clinician by id (a waste witness), or None."""
    if not user_id:
        return None
    return User.objects.filter(pk=user_id, role__in=User.CLINICIAN_ROLES).select_related("organization").first()


def _site_sessions(user, site):
    """Dosing sessions of the patients the user may see in the site's medical group."""
    return TherapySession.objects.dosing().filter(
        patient__in=visible_patients(user), patient__medical_group_id=site.medical_group_id
    )


def site_session(user, site, session_id):
    """A dosing session of a patient the user may see, of the site's medical group, or None."""
    if not session_id:
        return None
    return _site_sessions(user, site).select_related("patient").filter(pk=session_id).first()


def sessions_to_administer(user, site):
    """In-person dosing sessions of the user's patients of the site's group whose dose is recorded and whose
    administration is not in any log yet, newest first (what the log's administration form offers)."""
    from .models import StockEntry

    logged = StockEntry.objects.filter(kind=StockEntry.Kind.ADMINISTRATION).values("session_id")
    return list(
        _site_sessions(user, site)
        .filter(modality=TherapySession.Modality.IN_PERSON, dosing_record__dose_mg__isnull=False)
        .exclude(pk__in=logged)
        .select_related("patient")
        .order_by("-scheduled_at")[:50]
    )


def stock_site_log(site):
    """A site's entries, oldest first, with who recorded and witnessed them and the session's patient."""
    return list(site.entries.select_related("recorded_by", "witness", "session__patient"))


def prescription_of(user, patient, prescription_id):
    """One of the patient's prescriptions the user may see, with its pharmacy notices, or None."""
    found = (
        visible_prescriptions(user)
        .filter(patient=patient, pk=prescription_id)
        .select_related("dea_registration", "prescriber", "pdmp_check", "cancelled_by")
        .prefetch_related("pharmacy_notices", "fills")
    )
    return found.first()


@dataclass(frozen=True)
class PrescribingFacts:
    """What the prescriber sees before prescribing: the plan and what it still needs, the encounter, the PDMP
    check and whether the policy asks for the telemedicine attestation."""

    plan: object
    policy: object
    strength_mg: Decimal | None
    derived: Decimal | None  # what the plan's remaining doses need
    other_supply: Decimal
    encounter: str
    last_in_person_on: date | None
    pdmp_check: object
    pdmp_fresh: bool
    pdmp_oldest_allowed: date
    earlier_with_fills_left: list
    registration: object

    @property
    def quantity_left(self):
        return max(self.derived - self.other_supply, Decimal("0")) if self.derived is not None else None

    @property
    def encounter_label(self):
        return Prescription.Encounter(self.encounter).label

    @property
    def telemedicine_attestation_required(self):
        return self.last_in_person_on is None and self.policy.telemedicine_rule != "in_person"

    @property
    def in_person_required(self):
        return self.last_in_person_on is None and self.policy.telemedicine_rule == "in_person"


def prescribing_facts(user, patient) -> PrescribingFacts:
    """The facts of the prescribe page for a patient the user may see (looked up through access)."""
    today = timezone.localdate()
    plan = active_plan(patient)
    policy = policy_for(patient)
    strength = plan.tablet_strength_mg if plan else None
    derived = None
    if plan is not None and plan.full_dose_mg and strength:
        derived = rules.units_per_session(plan, strength) * ledger(plan.course).remaining
    encounter, last_in_person = encounter_facts(patient, user)
    check = latest_pdmp_check(patient, patient.state)
    oldest = today - timedelta(days=policy.pdmp_max_age_days)
    return PrescribingFacts(
        plan=plan,
        policy=policy,
        strength_mg=strength,
        derived=derived,
        other_supply=Decimal(supply_on_plan(plan)) if plan else Decimal("0"),
        encounter=encounter,
        last_in_person_on=last_in_person,
        pdmp_check=check,
        pdmp_fresh=check is not None and check.checked_on >= oldest,
        pdmp_oldest_allowed=oldest,
        earlier_with_fills_left=with_fills_left(patient, today),
        registration=dea_for_state(user, patient.state, today),
    )

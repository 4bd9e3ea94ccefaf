"""Reads of prescriptions, PDMP checks and fills, always starting from the patients the user may see."""

from django.db.models import Count, Max, Sum
from django.utils import timezone

from kapcare.accounts.models import DEARegistration, User
from patients.access import visible_patients
from treatment.course.models import CarePolicy, DosePlan
from treatment.sessions.models import TherapySession
from treatment.visits.models import Visit

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


def encounter_facts(patient, now=None):
    """(the evaluation's encounter, the date of the last in-person visit or None) from the booked visits."""
    now = now or timezone.now()
    past = Visit.objects.filter(patient=patient, status=Visit.Status.BOOKED, starts_at__lte=now)
    evaluation = past.filter(kind=Visit.Kind.EVALUATION).order_by("-starts_at").values_list("encounter", flat=True)
    encounter = evaluation.first()
    last = past.filter(encounter=Visit.Encounter.IN_PERSON).aggregate(last=Max("starts_at"))["last"]
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


def dispensed_quantity(prescription):
    return PrescriptionFill.objects.filter(prescription=prescription).aggregate(q=Sum("quantity"))["q"] or 0


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


def site_session(site, session_id):
    """A dosing session of a patient of the site's medical group, or None."""
    if not session_id:
        return None
    sessions = TherapySession.objects.dosing().filter(patient__medical_group_id=site.medical_group_id)
    return sessions.select_related("patient").filter(pk=session_id).first()

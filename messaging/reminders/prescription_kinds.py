"""Reminders about prescriptions and controlled substances (treatment.prescriptions): the refill window closing
(6 months after issue, Schedule III), a PDMP check due before a follow-up, and a site's stock count due. All go
to prescribers."""

import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Exists, F, Max, OuterRef
from django.utils import timezone

from kapcare.accounts.models import User
from patients.models import CareTeamMember
from treatment.models import CarePolicy, FollowUp, PDMPCheck, Prescription, StockEntry, StockSite
from treatment.prescriptions.models import REFILL_MONTHS

from .kinds import DAY, chart_link, home_link, kind, planner, row
from .models import Reminder
from .recipients import team

Kind = Reminder.Kind
REFILL_WINDOW_NOTICE = 14 * DAY
PDMP_BEFORE_FOLLOW_UP = 3 * DAY
STOCK_COUNT_EVERY = 7 * DAY


@planner
def plan_refill_windows(now):
    """Issued prescriptions with refills still to fill whose 6 months end within 14 days: their prescriber."""
    today = timezone.localdate(now)
    issued_from = today - relativedelta(months=REFILL_MONTHS)
    found = (
        Prescription.objects.filter(
            status=Prescription.Status.ISSUED,
            refills__gt=0,
            issued_on__gte=issued_from,
            issued_on__lte=issued_from + REFILL_WINDOW_NOTICE,
        )
        .alias(fills_made=Count("fills"))
        .filter(fills_made__lte=F("refills"))  # the first fill and every refill made: nothing left to close
        .values_list("pk", "patient_id", "issued_on", "prescriber_id")
    )
    return [
        row(Kind.REFILL_WINDOW_CLOSING, pk, issued_on.isoformat(), due_at=now, user_id=uid, patient_id=patient_id)
        for pk, patient_id, issued_on, uid in found
    ]


@kind(Kind.REFILL_WINDOW_CLOSING, link=chart_link)
def _refill_window_still_open(reminder, now):
    if not Prescription.objects.filter(pk=reminder.object_id, status=Prescription.Status.ISSUED).exists():
        return "The prescription was cancelled."
    return ""


def _fresh_since(today, medical_group_ids):
    """The oldest PDMP check day still fresh, per medical group: its policy's PDMP max age (CarePolicy)."""
    default = CarePolicy._meta.get_field("pdmp_max_age_days").default
    ages = dict(
        CarePolicy.objects.filter(medical_group_id__in=set(medical_group_ids)).values_list(
            "medical_group_id", "pdmp_max_age_days"
        )
    )
    return {group: today - datetime.timedelta(days=ages.get(group, default)) for group in medical_group_ids}


def _latest_checks(patient_ids):
    """{(patient id, state): the day of the latest PDMP check there}."""
    found = PDMPCheck.objects.filter(patient_id__in=patient_ids).values("patient_id", "state")
    return {(r["patient_id"], r["state"]): r["last"] for r in found.annotate(last=Max("checked_on"))}


def _pdmp_due(today, follow_ups):
    """The follow-ups (pk, patient id, due on, medical group, state) whose patient has no PDMP check in their state
    as fresh as their medical group's policy asks."""
    since = _fresh_since(today, [f[3] for f in follow_ups])
    latest = _latest_checks([f[1] for f in follow_ups])
    return [f for f in follow_ups if (latest.get((f[1], f[4])) or datetime.date.min) < since[f[3]]]


@planner
def plan_pdmp_checks(now):
    """A follow-up within 3 days and no PDMP check as fresh as the group's policy asks: the patient's prescriber."""
    today = timezone.localdate(now)
    follow_ups = _pdmp_due(
        today,
        list(
            FollowUp.objects.pending()
            .filter(due_on__gte=today, due_on__lte=today + PDMP_BEFORE_FOLLOW_UP, course__ended_at__isnull=True)
            .values_list("pk", "patient_id", "due_on", "patient__medical_group_id", "patient__state")
        ),
    )
    prescribers = team([f[1] for f in follow_ups], CareTeamMember.Role.PRESCRIBER)
    return [
        row(Kind.PDMP_CHECK_DUE, pk, due_on.isoformat(), due_at=now, user_id=uid, patient_id=patient_id)
        for pk, patient_id, due_on, _group, _state in follow_ups
        for uid in prescribers[patient_id]
    ]


@kind(Kind.PDMP_CHECK_DUE, link=chart_link)
def _pdmp_check_still_due(reminder, now):
    follow_up = (
        FollowUp.objects.filter(pk=reminder.object_id)
        .values_list("pk", "patient_id", "due_on", "patient__medical_group_id", "patient__state", "status")
        .first()
    )
    if follow_up is None or follow_up[5] != FollowUp.Status.DRAFT:
        return "The follow-up was signed."
    if not _pdmp_due(timezone.localdate(now), [follow_up[:5]]):
        return "A PDMP check was attested."
    return ""


@planner
def plan_stock_counts(now):
    """Sites with stock whose last count is older than 7 days (or never counted): the group's prescribers."""
    sites = list(
        StockSite.objects.filter(Exists(StockEntry.objects.filter(site=OuterRef("pk")))).values_list(
            "pk", "medical_group_id"
        )
    )
    last_counts = dict(
        StockEntry.objects.filter(kind=StockEntry.Kind.COUNT, site_id__in=[s[0] for s in sites])
        .values("site_id")
        .annotate(last=Max("recorded_at"))
        .values_list("site_id", "last")
    )
    never = now - 2 * STOCK_COUNT_EVERY
    due = [(pk, group) for pk, group in sites if (last_counts.get(pk) or never) < now - STOCK_COUNT_EVERY]
    prescribers = User.objects.filter(
        role=User.Role.PRESCRIBER, is_active=True, organization_id__in={group for _pk, group in due}
    ).values_list("organization_id", "pk")
    week = timezone.localdate(now).isocalendar()
    occasion = f"{week.year}-W{week.week:02d}"
    return [
        row(Kind.STOCK_COUNT_DUE, pk, occasion, due_at=now, user_id=uid)
        for pk, group in due
        for group_of, uid in prescribers
        if group_of == group
    ]


@kind(Kind.STOCK_COUNT_DUE, link=home_link)
def _stock_count_still_due(reminder, now):
    last = StockEntry.objects.filter(site_id=reminder.object_id, kind=StockEntry.Kind.COUNT).aggregate(
        last=Max("recorded_at")
    )["last"]
    if last is not None and last >= now - STOCK_COUNT_EVERY:
        return "The site was counted."
    return ""

"""Reads of therapy sessions: the session page (details, checklist, dosing record, go / hold), and the
therapist's dashboard panels. Every read starts from kapcare.access; callers check the role first."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from kapcare import access, prepared
from kapcare.access import Permission
from patients import selectors as patient_selectors
from patients.access import visible_patients
from patients.models import Patient, SafetyAlert
from treatment.course import gates
from treatment.course import selectors as course_selectors
from treatment.course.models import CarePolicy, DosePlan, FollowUp
from treatment.sessions.models import ChecklistConfirmation, TherapySession, VitalsReading
from treatment.sessions.services import checklist_items, latest_pre_dose, unconfirmed_checklist


def visible_sessions(user):
    return course_selectors.visible_sessions(user)


def session_of_patient(user, patient, session_id, *, action):
    """The patient's session with this id as `user` may see it, or 404 (audited)."""
    sessions = visible_sessions(user).filter(patient=patient).select_related("patient", "dose_plan", "therapist")
    return access.get_visible(
        sessions, session_id, user=user, action=action, model=TherapySession, patient_field="patient_id"
    )


@dataclass(frozen=True)
class ChecklistLine:
    item: str
    label: str
    confirmed: ChecklistConfirmation | None

    @property
    def done(self):
        return self.confirmed is not None


@dataclass
class Checklist:
    lines: list
    outstanding_consents: list  # labels of current required consents not signed: "consent current" fails

    @property
    def unconfirmed(self):
        return [line for line in self.lines if not line.done]

    @property
    def consent_current(self):
        return not self.outstanding_consents

    @property
    def complete(self):
        return not self.unconfirmed and self.consent_current


def checklist(session) -> Checklist:
    """The dosing session's checklist: each item and its confirmation, and whether consent is current."""
    confirmations = {row.item: row for row in session.checklist.select_related("confirmed_by")}
    lines = [
        ChecklistLine(item, ChecklistConfirmation.Item(item).label, confirmations.get(item))
        for item in checklist_items(session)
    ]
    outstanding = [doc.get_kind_display() for doc in patient_selectors.outstanding_consents(session.patient)]
    return Checklist(lines=lines, outstanding_consents=outstanding)


@dataclass
class DosingView:
    """What the session page shows of a dosing session's record."""

    session: TherapySession
    policy: CarePolicy
    plan: DosePlan | None
    record: object
    vitals: list
    boosters: list
    check_ins: list
    hold: gates.Gate | None  # why the dose cannot be marked taken now, or None: go
    now: datetime = field(default_factory=timezone.now)

    @property
    def session_id(self):
        return self.session.pk

    @property
    def session_status(self):
        return self.session.status

    @property
    def latest_pre_dose(self):
        readings = [r for r in self.vitals if r.phase == VitalsReading.Phase.PRE_DOSE]
        return readings[-1] if readings else None

    @property
    def has_end_vitals(self):
        return any(r.phase == VitalsReading.Phase.END for r in self.vitals)

    @property
    def dose_taken(self):
        return self.record is not None and self.record.dose_taken

    @property
    def ended(self):
        return self.record is not None and self.record.ended_at is not None

    @property
    def boosters_left(self):
        if self.plan is None or not self.plan.boosters_allowed:
            return 0
        return max(self.plan.booster_count - len(self.boosters), 0)

    @property
    def booster_earliest(self):
        if not self.dose_taken or not self.plan or not self.plan.booster_min_minutes:
            return None
        return self.record.dose_taken_at + timedelta(minutes=self.plan.booster_min_minutes)

    @property
    def next_check_in_due(self):
        """A remote session's next chaperone check-in: the interval after the last one, or after the dose."""
        if not self.dose_taken or self.ended:
            return None
        last = self.check_ins[-1].checked_at if self.check_ins else self.record.dose_taken_at
        return last + timedelta(minutes=self.policy.chaperone_check_in_minutes)

    @property
    def check_in_overdue(self):
        due = self.next_check_in_due
        return due is not None and due < self.now


def dosing_view(session) -> DosingView:
    vitals = list(session.vitals.order_by("taken_at", "recorded_at", "id"))
    record = getattr(session, "dosing_record", None)
    plan = DosePlan.objects.signed().filter(course_id=session.course_id).first() or session.dose_plan
    hold = None
    if session.status == TherapySession.Status.SCHEDULED and not (record and record.dose_taken):
        # The dose would be taken now, or at the booked start when that is still ahead.
        at = max(session.scheduled_at, timezone.now())
        facts = gates.dosing_facts(session.patient, session.course, at, session=session)
        holds = gates.hold_facts(session.patient, session.course)
        pre_dose = latest_pre_dose(session, vitals)
        hold = gates.first_failed_dose_gate(facts, pre_dose, unconfirmed_checklist(session), holds)
    return DosingView(
        session=session,
        policy=CarePolicy.for_group(session.patient.medical_group_id),
        plan=plan,
        record=record,
        vitals=vitals,
        boosters=list(session.boosters.all()),
        check_ins=list(session.check_ins.all()),
        hold=hold,
    )


def session_changes(session):
    return list(session.changes.select_related("changed_by"))


# The therapist's dashboard ------------------------------------------------------------------------

UPCOMING_DAYS = 7


@dataclass(frozen=True)
class StageCount:
    stage: str
    label: str
    count: int


def patients_by_stage(user) -> list[StageCount]:
    """How many of the user's patients are at each stage of the course, in course order. One query."""
    counts = dict(
        visible_patients(user).order_by().values_list("stage").annotate(n=Count("id")).values_list("stage", "n")
    )
    return [
        StageCount(stage, label, counts[stage])
        for stage, label in Patient._meta.get_field("stage").choices
        if stage in counts
    ]


@dataclass(frozen=True)
class UpcomingSession:
    session: TherapySession
    items_required: int
    items_confirmed: int

    @property
    def checklist_complete(self):
        return self.items_confirmed >= self.items_required


_confirmed_count = (
    ChecklistConfirmation.objects.filter(session=OuterRef("pk"))
    .order_by()
    .values("session")
    .annotate(n=Count("id"))
    .values("n")
)


def _window(days, now):
    """From the start of today (the server's time zone) to the end of the `days`-th day ahead."""
    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=days + 1)


def _upcoming(user, *, start, end):
    return visible_sessions(user).filter(
        status=TherapySession.Status.SCHEDULED, scheduled_at__gte=start, scheduled_at__lt=end
    )


# What the lists of upcoming sessions show and checklist_items reads: the columns of three tables cost more to
# compile and load than the rows.
UPCOMING_FIELDS = (
    *("id", "patient_id", "kind", "scheduled_at", "modality", "status", "dose_plan_id"),
    *("patient__id", "patient__first_name", "patient__last_name", "patient__time_zone"),
    *("dose_plan__id", "dose_plan__benzodiazepine_hold"),
)


def _upcoming_rows(key, values):
    shape, limit = key
    return (
        _upcoming(prepared.user_of(shape, values), start=values.start, end=values.end)
        .select_related("patient", "dose_plan")
        .only(*UPCOMING_FIELDS)
        # A count per row shown, not a GROUP BY over the window: the scan walks session_status_time in order
        # and stops at `limit`, whatever the caseload.
        .annotate(items_confirmed=Coalesce(Subquery(_confirmed_count), Value(0)))
        .order_by("scheduled_at", "id")[:limit]
    )


# Built once per role and limit (kapcare.prepared): the dashboards show it on every visit.
_UPCOMING_ROWS = prepared.Prepared(_upcoming_rows, slots={**prepared.USER_SLOTS, "start": datetime, "end": datetime})


def upcoming_sessions(user, *, days=UPCOMING_DAYS, now=None, limit=50) -> list[UpcomingSession]:
    """Scheduled sessions from the start of today (the user's time zone) to `days` ahead, soonest first, each
    with its checklist state (consent is shown on the session page). One query."""
    if not user.is_authenticated:
        return []
    start, end = _window(days, now)
    rows = _UPCOMING_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user), start=start, end=end)
    return [UpcomingSession(row, len(checklist_items(row)), row.items_confirmed) for row in rows]


def upcoming_session_count(user, *, days=UPCOMING_DAYS, now=None) -> int:
    """How many sessions upcoming_sessions would list without a limit. One query."""
    start, end = _window(days, now)
    return _upcoming(user, start=start, end=end).order_by().count()


def _current_plans(user):
    return course_selectors.visible_dose_plans(user).signed().filter(course__ended_at__isnull=True)


# What the panel of current dose plans shows.
CURRENT_PLAN_FIELDS = (
    *("id", "patient_id", "version", "full_dose_mg", "route", "start_at", "boosters_allowed", "booster_count"),
    *("booster_mg", "booster_min_minutes", "doses_authorized", "benzodiazepine_hold"),
    *("patient__id", "patient__first_name", "patient__last_name"),
)


def _current_plan_rows(key, values):
    shape, limit = key
    return (
        _current_plans(prepared.user_of(shape, values))
        .select_related(None)
        .select_related("patient")  # not the prescriber visible_dose_plans joins: the panel does not name them
        .only(*CURRENT_PLAN_FIELDS)
        .order_by("patient__last_name", "patient__first_name", "id")[:limit]
    )


# Built once per role and limit (kapcare.prepared): the therapist's dashboard shows it on every visit.
_CURRENT_PLAN_ROWS = prepared.Prepared(_current_plan_rows, slots=prepared.USER_SLOTS)


def current_dose_plans(user, *, limit=50) -> list[DosePlan]:
    """The active signed dose plan of each of the user's patients with an open course. One query."""
    if not access.can(user, Permission.VIEW_DOSE_PLAN):
        return []
    return _CURRENT_PLAN_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user))


def current_dose_plan_count(user) -> int:
    """How many plans current_dose_plans would list without a limit. One query (none without the permission)."""
    if not access.can(user, Permission.VIEW_DOSE_PLAN):
        return 0
    return _current_plans(user).select_related(None).order_by().count()


# Held doses: booked dosing sessions whose dose may not be given now -------------------------------------


@dataclass(frozen=True)
class HeldSession:
    session: TherapySession
    hold: gates.Gate  # why, in the gate's words


def held_dosing_sessions(user, *, now=None, limit=50) -> list[HeldSession]:
    """The user's patients' booked dosing sessions held by an open risk alert or a follow-up overdue past the
    policy's grace (treatment.course.gates.first_hold), soonest first, for the clinicians (the reason names a clinical
    alert). One query."""
    if user.role not in ("therapist", "prescriber"):
        return []
    return held_dosing_sessions_among(visible_sessions(user), now=now, limit=limit)


def held_dosing_sessions_among(sessions, *, now=None, limit=None) -> list[HeldSession]:
    """held_dosing_sessions over a TherapySession queryset."""
    now = now or timezone.now()
    alert = SafetyAlert.objects.filter(patient=OuterRef("patient")).holding_dose().order_by("raised_at", "id")
    pending = FollowUp.objects.pending().filter(course=OuterRef("course"))
    grace = CarePolicy.objects.filter(medical_group=OuterRef("patient__medical_group"))
    rows = (
        sessions.filter(status=TherapySession.Status.SCHEDULED, kind=TherapySession.Kind.DOSING)
        .annotate(
            alert_kind=Subquery(alert.values("kind")[:1]),
            alert_raised_at=Subquery(alert.values("raised_at")[:1]),
            follow_up_due_on=Subquery(pending.values("due_on")[:1]),
            grace_days=Coalesce(
                Subquery(grace.values("follow_up_grace_days")[:1]),
                Value(CarePolicy._meta.get_field("follow_up_grace_days").default),
            ),
        )
        # Any follow-up already due, with a day of slack for the time zones; whether it is past the policy's
        # grace is first_hold's test below, on the patient's calendar (date arithmetic in SQL would not work on
        # the SQLite of `make run`).
        .filter(Q(alert_kind__isnull=False) | Q(follow_up_due_on__lt=timezone.localdate(now) + timedelta(days=1)))
        .select_related("patient")
        .order_by("scheduled_at", "id")[:limit]
    )
    held = []
    for row in rows:
        alert_row = SafetyAlert(kind=row.alert_kind, raised_at=row.alert_raised_at) if row.alert_kind else None
        follow_up = FollowUp(due_on=row.follow_up_due_on) if row.follow_up_due_on else None
        policy = CarePolicy(follow_up_grace_days=row.grace_days)
        hold = gates.first_hold(gates.hold_from(alert_row, follow_up, policy, gates.patient_zone(row.patient)))
        if hold is not None:
            held.append(HeldSession(row, hold))
    return held

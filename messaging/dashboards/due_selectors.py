"""The dashboards' work panels, read from the stored due work (patients.models.DueItem): each panel is the
most urgent few rows of one kind (one indexed query with a LIMIT), every panel's count comes from one
aggregate, and "see all" pages through a kind with a keyset cursor. The records a panel links to are read
for the rows shown only. Every read starts from kapcare.access."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from assessments import instruments
from kapcare import prepared
from patients import access as patient_access
from patients.models import DueItem
from treatment.course import selectors as course_selectors
from treatment.due_work import KIND_ROLES, start_of_day

Kind = DueItem.Kind
PANEL_LIMIT = 10
SEE_ALL_PAGE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _follow_ups_before(today):
    return start_of_day(today + timedelta(days=course_selectors.FOLLOW_UP_DUE_WITHIN_DAYS + 1))


def _window(kind, today, *, follow_ups_before=None):
    """The panel's "due before": follow-up visits within the week ahead (or past due); the rest all open work."""
    if kind == Kind.FOLLOW_UP:
        return Q(due_at__lt=follow_ups_before or _follow_ups_before(today))
    return Q()


def due_rows(user, kind, *, limit, after=None, today=None):
    """Open rows of one kind for the user, most urgent first, after the keyset `after` (urgency, due_at, id)."""
    rows = patient_access.visible_due_items(user).filter(_window(kind, today or timezone.localdate()), kind=kind)
    if after is not None:
        urgency, due_at, pk = after
        rows = rows.filter(
            Q(urgency__gt=urgency)
            | Q(urgency=urgency, due_at__gt=due_at)
            | Q(urgency=urgency, due_at=due_at, pk__gt=pk)
        )
    return list(rows.select_related("patient").in_panel_order()[:limit])


def due_counts(user, kinds, *, today=None) -> dict:
    """{kind: open rows} for the user's panels, in one query."""
    today = today or timezone.localdate()
    if not kinds:
        return {}
    counts = patient_access.visible_due_items(user).aggregate(
        **{kind: Count("pk", filter=Q(_window(kind, today), kind=kind)) for kind in kinds}
    )
    return {kind: counts[kind] for kind in kinds}


def questionnaires_due_for_patient(user, patient, *, today=None) -> list:
    """[WorkItem] of the questionnaires due for `patient` (from a visible_* queryset of `user`), from the stored due
    work: overdue first, then by due date and instrument, as the schedule lists them. One query."""
    rows = patient_access.visible_questionnaires_due(user).filter(patient=patient).order_by("due_on", "key")
    return [WorkItem(row, today or timezone.localdate()) for row in rows.only(*QUESTIONNAIRE_FIELDS)]


QUESTIONNAIRE_FIELDS = ("id", "patient_id", "kind", "key", "due_on", "detail")


# Cursors: "urgency.microseconds since the epoch.id", the last row of the page before ----------------------------


def cursor_of(row) -> str:
    return f"{row.urgency}.{(row.due_at - EPOCH) // timedelta(microseconds=1)}.{row.pk}"


def parse_cursor(text):
    """(urgency, due_at, id) from a cursor, or ValueError."""
    urgency, micros, pk = (int(part) for part in text.split("."))
    if not (-(2**15) <= urgency < 2**15 and 0 < pk < 2**63):
        raise ValueError("cursor out of range")
    return urgency, EPOCH + timedelta(microseconds=micros), pk


# The panels ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    """A stored row as a panel shows it: what is due for whom, by when, counted from `today`."""

    row: DueItem
    today: date

    patient = property(lambda self: self.row.patient)
    due_on = property(lambda self: self.row.due_on)
    due_at = property(lambda self: self.row.due_at)
    detail = property(lambda self: self.row.detail)
    reason = detail  # a questionnaire's reason, in the words of the schedule
    object_id = property(lambda self: self.row.object_id)
    code = property(lambda self: self.row.key)  # a questionnaire's instrument

    @property
    def instrument(self):
        return instruments.get(self.row.key)

    @property
    def days_overdue(self):
        return max((self.today - self.due_on).days, 0)

    @property
    def days_until(self):
        return (self.due_on - self.today).days

    @property
    def overdue(self):
        return self.days_overdue > 0


@dataclass
class Panels:
    """The work panels of one clinician's dashboard: rows shown per kind, and each kind's full count."""

    rows: dict
    counts: dict
    today: date

    def entries(self):
        """{template name: [WorkItem]} for the dashboard's panels."""
        return {name: [WorkItem(row, self.today) for row in self.rows.get(kind, [])] for kind, name in PANELS.items()}


PANELS = {
    Kind.QUESTIONNAIRE: "questionnaires_due",
    Kind.FOLLOW_UP: "follow_ups_due",
    Kind.DOSE_PLAN_ENDING: "plans_nearing_exhaustion",
    Kind.NOTE_TO_SIGN: "unsigned_notes",
    Kind.DOCUMENTATION: "missing_documentation",
    Kind.HELD_SESSION: "held_sessions",
}


def panel_kinds(user) -> list:
    """The kinds of due work on this user's dashboard (their role's share of the team's work)."""
    return [kind for kind, due_role in KIND_ROLES.items() if user.role in patient_access.DUE_WORK_ROLES[due_role]]


DUE_FIELDS = tuple(field.name for field in DueItem._meta.concrete_fields)


def _panel_rows(key, values):
    """The first `limit` rows of each kind, as one UNION ALL (a queryset of DueItem, the patient's name loaded)."""
    shape, kinds, limit, together = key
    # The panels name the patient only: their other columns, five times over in the UNION, cost more to compile
    # and load than the rows.
    patient_name = ("patient__id", "patient__first_name", "patient__last_name")
    visible = (
        patient_access.visible_due_items(prepared.user_of(shape, values))
        .select_related("patient")
        .only(*DUE_FIELDS, *patient_name)
    )
    each = [
        visible.filter(_window(kind, None, follow_ups_before=values.follow_ups_before), kind=kind).in_panel_order()[
            :limit
        ]
        for kind in kinds
    ]
    return each[0].union(*each[1:], all=True) if together else each[0]


# Built once per role, kinds and limit (kapcare.prepared): every clinical dashboard shows the panels.
_PANEL_ROWS = prepared.Prepared(_panel_rows, slots={**prepared.USER_SLOTS, "follow_ups_before": datetime})


def dashboard_panels(user, *, limit=PANEL_LIMIT, today=None, counts=None) -> Panels:
    """The user's work panels: the first `limit` rows of each kind (one LIMIT query per kind, sent as one UNION
    ALL) and one count for all (none when `counts`, the due_counts of the same kinds and day, is given: the
    dashboard keeps them in kapcare.caseload_cache)."""
    today = today or timezone.localdate()
    kinds = panel_kinds(user) if user.is_authenticated else []
    rows = {kind: [] for kind in kinds}
    if kinds:
        # SQLite (`make run`) takes no LIMIT inside a UNION: one query per kind there.
        together = len(kinds) > 1 and connection.features.supports_slicing_ordering_in_compound
        values = {**prepared.user_values(user), "follow_ups_before": _follow_ups_before(today)}
        shape = prepared.user_shape(user)
        found = (
            _PANEL_ROWS((shape, tuple(kinds), limit, True), **values)
            if together
            else chain(*(_PANEL_ROWS((shape, (kind,), limit, False), **values) for kind in kinds))
        )
        for row in found:
            rows[row.kind].append(row)
        for kind_rows in rows.values():  # a UNION keeps no order of its own
            kind_rows.sort(key=lambda row: (row.urgency, row.due_at, row.pk))
    if counts is None:
        counts = due_counts(user, kinds, today=today)
    return Panels(rows=rows, counts=counts, today=today)

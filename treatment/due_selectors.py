"""The dashboards' work panels, read from the stored due work (patients.models.DueItem): each panel is the
most urgent few rows of one kind (one indexed query with a LIMIT), every panel's count comes from one
aggregate, and "see all" pages through a kind with a keyset cursor. The records a panel links to are read
for the rows shown only. Every read starts from kapcare.access."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from assessments import instruments
from kapcare import access
from patients.models import DueItem

from . import course_selectors, gates, measurement_selectors, note_selectors, session_selectors
from .due_work import KIND_ROLES, start_of_day

Kind = DueItem.Kind
PANEL_LIMIT = 10
SEE_ALL_PAGE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _window(kind, today):
    """The panel's "due before": follow-up visits within the week ahead (or past due); the rest all open work."""
    if kind == Kind.FOLLOW_UP:
        return Q(due_at__lt=start_of_day(today + timedelta(days=course_selectors.FOLLOW_UP_DUE_WITHIN_DAYS + 1)))
    return Q()


def due_rows(user, kind, *, limit, after=None, today=None):
    """Open rows of one kind for the user, most urgent first, after the keyset `after` (urgency, due_at, id)."""
    rows = access.visible_due_items(user).filter(_window(kind, today or timezone.localdate()), kind=kind)
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
    counts = access.visible_due_items(user).aggregate(
        **{kind: Count("pk", filter=Q(_window(kind, today), kind=kind)) for kind in kinds}
    )
    return {kind: counts[kind] for kind in kinds}


# Cursors: "urgency.microseconds since the epoch.id", the last row of the page before ----------------------------


def cursor_of(row) -> str:
    return f"{row.urgency}.{(row.due_at - EPOCH) // timedelta(microseconds=1)}.{row.pk}"


def parse_cursor(text):
    """(urgency, due_at, id) from a cursor, or ValueError."""
    urgency, micros, pk = (int(part) for part in text.split("."))
    return urgency, EPOCH + timedelta(microseconds=micros), pk


# The panels in the shapes their templates show ------------------------------------------------------------


def questionnaire_entries(rows, today):
    return [
        measurement_selectors.Due(row.patient, instruments.get(row.key), row.detail, row.due_on, today)
        for row in rows
        if instruments.get(row.key) is not None
    ]


def follow_up_entries(rows, today):
    return [
        course_selectors.DueFollowUp(
            follow_up=None,
            patient=row.patient,
            due_on=row.due_on,
            days_overdue=max((today - row.due_on).days, 0),
            days_until=max((row.due_on - today).days, 0),
        )
        for row in rows
    ]


def sessions_for(user, rows_by_kind) -> dict:
    """{session id: session with patient and note} for the rows that point at sessions, in one query."""
    ids = {
        row.object_id
        for kind in (Kind.DOCUMENTATION, Kind.NOTE_TO_SIGN, Kind.HELD_SESSION)
        for row in rows_by_kind.get(kind, [])
    }
    if not ids:
        return {}
    sessions = session_selectors.visible_sessions(user).filter(pk__in=ids).select_related("patient", "note")
    return {session.pk: session for session in sessions}


def documentation_entries(rows, sessions, today):
    return [
        note_selectors.MissingBeforeFollowUp(
            session=sessions[row.object_id],
            patient=row.patient,
            follow_up_due_on=row.due_on,
            days_until=(row.due_on - today).days,
        )
        for row in rows
        if row.object_id in sessions
    ]


def held_entries(rows, sessions):
    return [
        session_selectors.HeldSession(sessions[row.object_id], gates.Gate(code=row.kind, message=row.detail))
        for row in rows
        if row.object_id in sessions
    ]


def dose_plan_entries(user, rows):
    """The plans shown, with their ledger (used, booked, remaining, next visit): one query for these rows only."""
    if not rows:
        return []
    ids = [row.object_id for row in rows]
    plans = course_selectors.plans_nearing_exhaustion_among(
        course_selectors.visible_dose_plans(user).filter(pk__in=ids)
    )
    by_id = {plan.pk: plan for plan in plans}
    return [by_id[pk] for pk in ids if pk in by_id]


@dataclass
class Panels:
    """The work panels of one clinician's dashboard: rows shown per kind, and each kind's full count."""

    rows: dict
    counts: dict

    def entries(self, user, today):
        rows = self.rows
        sessions = sessions_for(user, rows)
        get = rows.get
        return {
            "questionnaires_due": questionnaire_entries(get(Kind.QUESTIONNAIRE, []), today),
            "follow_ups_due": follow_up_entries(get(Kind.FOLLOW_UP, []), today),
            "plans_nearing_exhaustion": dose_plan_entries(user, get(Kind.DOSE_PLAN_ENDING, [])),
            "unsigned_notes": [sessions[r.object_id] for r in get(Kind.NOTE_TO_SIGN, []) if r.object_id in sessions],
            "missing_documentation": documentation_entries(get(Kind.DOCUMENTATION, []), sessions, today),
            "held_sessions": held_entries(get(Kind.HELD_SESSION, []), sessions),
        }


def panel_kinds(user) -> list:
    """The kinds of due work on this user's dashboard (their role's share of the team's work)."""
    return [kind for kind, due_role in KIND_ROLES.items() if user.role in access.DUE_WORK_ROLES[due_role]]


def dashboard_panels(user, *, limit=PANEL_LIMIT, today=None) -> Panels:
    """The user's work panels: one LIMIT query per kind and one count for all."""
    today = today or timezone.localdate()
    kinds = panel_kinds(user) if user.is_authenticated else []
    rows = {kind: due_rows(user, kind, limit=limit, today=today) for kind in kinds}
    return Panels(rows=rows, counts=due_counts(user, kinds, today=today))

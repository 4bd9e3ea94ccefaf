"""Reads of side-effect reports for the chart, the dashboards and the API; every one starts from
kapcare.access. Callers check Permission.VIEW_ADVERSE_EVENTS."""

from datetime import datetime, timedelta

from django.utils import timezone

from kapcare import prepared
from patients.access import visible_patient_ids
from treatment.adverse_events.models import AdverseEvent

RECENT_DAYS = 14


def visible_adverse_events(user):
    return (
        AdverseEvent.objects.filter(patient_id__in=visible_patient_ids(user))  # the care team index
        .select_related("reported_by", "session")
        .order_by("-reported_at", "-id")
    )


RECENT_FIELDS = (
    *("id", "patient_id", "reported_by_id", "kind", "severity", "reported_at", "onset_minutes", "action_taken"),
    *("patient__id", "patient__first_name", "patient__last_name"),
    *("reported_by__id", "reported_by__first_name", "reported_by__last_name", "reported_by__email"),
)


def _recent_rows(key, values):
    shape, limit = key
    # What the list shows: the report, its patient's name and who reported it (not the session it came from).
    events = visible_adverse_events(prepared.user_of(shape, values)).filter(reported_at__gte=values.since)
    return events.select_related(None).select_related("patient", "reported_by").only(*RECENT_FIELDS)[:limit]


# Built once per role and limit (kapcare.prepared): the prescriber's dashboard shows it on every visit.
_RECENT_ROWS = prepared.Prepared(_recent_rows, slots={**prepared.USER_SLOTS, "since": datetime})


def recent_adverse_events(user, *, days=RECENT_DAYS, limit=50):
    """The prescriber's dashboard list: reports of the last `days` days, newest first, in one query."""
    if not user.is_authenticated:
        return []
    since = timezone.now() - timedelta(days=days)
    return _RECENT_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user), since=since)


def recent_adverse_event_count(user, *, days=RECENT_DAYS):
    """How many reports recent_adverse_events would list without a limit. One query."""
    since = timezone.now() - timedelta(days=days)
    return visible_adverse_events(user).filter(reported_at__gte=since).order_by().count()


def adverse_events_of_patient(user, patient):
    return list(visible_adverse_events(user).filter(patient=patient))

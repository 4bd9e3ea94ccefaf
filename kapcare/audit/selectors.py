"""Reads of the audit trail that need no patient scope (the access history itself is read in records)."""

from datetime import UTC, datetime, time, timedelta


def _start_of(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def filter_history(events, filters):
    """Narrow an access history to validated filters (outcome, actor, since, until)."""
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("actor"):
        events = events.filter(actor_id=filters["actor"])
    if filters.get("since"):
        events = events.filter(at__gte=_start_of(filters["since"]))
    if filters.get("until"):
        events = events.filter(at__lt=_start_of(filters["until"] + timedelta(days=1)))
    return events

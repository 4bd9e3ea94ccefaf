"""Patient-facing timing: reminders reach a patient in their own time zone, outside their quiet hours."""

import datetime
import zoneinfo

from .models import default_quiet_end, default_quiet_start


def zone(name):
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def in_quiet_hours(local_time, start, end):
    if start == end:
        return False
    if start > end:  # across midnight, e.g. 21:00-08:00
        return local_time >= start or local_time < end
    return start <= local_time < end


def outside_quiet_hours(at, time_zone, start=None, end=None):
    """`at`, or the end of the quiet hours it falls in (in the patient's time zone), as an aware datetime."""
    start, end = start or default_quiet_start(), end or default_quiet_end()
    tz = zone(time_zone)
    local = at.astimezone(tz)
    if not in_quiet_hours(local.time(), start, end):
        return at
    day = local.date()
    if start > end and local.time() >= start:
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day, end, tzinfo=tz).astimezone(datetime.UTC)

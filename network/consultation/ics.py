"""A meeting as an iCalendar (.ics) file: the group's name, the local time in its time zone, the video link.
Nothing about any patient is ever in a meeting, so nothing about one is in the file."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event


def meeting_ics(meeting) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//KAPCare//Peer consultation//EN")
    calendar.add("version", "2.0")
    event = Event()
    start = meeting.starts_at.astimezone(zoneinfo.ZoneInfo(meeting.time_zone))
    event.add("uid", f"meeting-{meeting.pk}@kapcare")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", f"Peer consultation: {meeting.group.name}")
    event.add("location", meeting.video_link)
    event.add("url", meeting.video_link)
    event.add("description", f"Video: {meeting.video_link}\nCE hours: {meeting.ce_hours}\n{settings.KAPCARE_BASE_URL}")
    calendar.add_component(event)
    # The zone's rules around the meeting only: a compact file (the default covers 1970 to 2038).
    calendar.add_missing_timezones(
        first_date=start.date() - timedelta(days=366), last_date=start.date() + timedelta(days=366)
    )
    return calendar.to_ical()

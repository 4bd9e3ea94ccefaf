"""Calendars in RFC 5545 (the `icalendar` package): a clinician's or patient's feed, and one visit's .ics.

No patient name ever goes in: a clinician's event says the kind and the patient's initials, and carries the
KAPCare link, where the full record sits behind sign-in. Times go out in UTC, so every calendar shows them in
its own zone, correctly on both sides of a daylight-saving change.
"""

import datetime

from django.conf import settings
from icalendar import Calendar, Event

from .models import Visit

PRODID = "-//KAPCare//Visits and sessions//EN"


def initials(patient):
    return f"{patient.first_name[:1]}.{patient.last_name[:1]}.".upper()


def _calendar(name):
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(uid, start, end, summary, link, *, location="", cancelled=False):
    event = Event()
    event.add("uid", f"{uid}@kapcare")
    event.add("dtstamp", datetime.datetime.now(datetime.UTC))
    event.add("dtstart", start.astimezone(datetime.UTC))
    event.add("dtend", end.astimezone(datetime.UTC))
    event.add("summary", summary)
    event.add("url", link)
    event.add("description", f"Open in KAPCare: {link}")
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _site(path):
    return settings.KAPCARE_BASE_URL.rstrip("/") + path


def _where(visit):
    return visit.video_link if visit.encounter == Visit.Encounter.VIDEO else visit.location


def visit_event(visit, *, for_patient):
    what = f"{visit.get_kind_display()} visit ({visit.get_encounter_display().lower()})"
    if for_patient:
        summary, link = f"KAPCare: {what} with {visit.prescriber.get_full_name()}", _site(f"/visits/{visit.pk}/")
    else:
        summary, link = f"KAPCare: {what}, {initials(visit.patient)}", _site(f"/patients/{visit.patient_id}/")
    cancelled = visit.status == Visit.Status.CANCELLED
    return _event(
        f"visit-{visit.pk}", visit.starts_at, visit.ends_at, summary, link, location=_where(visit), cancelled=cancelled
    )


def session_event(session, *, for_patient):
    end = session.scheduled_at + datetime.timedelta(minutes=session.duration_minutes)
    what = f"{session.get_kind_display()} session"
    if for_patient:
        summary, link = f"KAPCare: {what}", _site("/")
    else:
        summary, link = (
            f"KAPCare: {what}, {initials(session.patient)}",
            _site(f"/patients/{session.patient_id}/sessions/{session.pk}/"),
        )
    where = session.video_link if session.modality == "remote" else session.location
    return _event(f"session-{session.pk}", session.scheduled_at, end, summary, link, location=where)


def feed(user, visits, sessions):
    """The person's feed as bytes."""
    for_patient = user.is_patient
    calendar = _calendar("KAPCare")
    for visit in visits:
        calendar.add_component(visit_event(visit, for_patient=for_patient))
    for session in sessions:
        calendar.add_component(session_event(session, for_patient=for_patient))
    return calendar.to_ical()


def one_visit(visit, *, for_patient=True):
    calendar = _calendar("KAPCare visit")
    calendar.add("method", "PUBLISH")
    calendar.add_component(visit_event(visit, for_patient=for_patient))
    return calendar.to_ical()

"""Reminders about prescriber visits (treatment.visits): the visit tomorrow, and a follow-up still to book.
Both go to the patient, in their time zone and outside their quiet hours."""

import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from treatment.models import FollowUp, Visit

from .kinds import DAY, kind, patient_due, patient_timing, planner, row
from .models import Reminder

Kind = Reminder.Kind
BOOK_AHEAD = datetime.timedelta(days=14)  # a follow-up due within this and not booked: remind the patient


def visits_link(reminder):
    return "/visits/"


@planner
def plan_visits_tomorrow(now):
    visits = list(
        Visit.objects.filter(
            status=Visit.Status.BOOKED, starts_at__gt=now, starts_at__lte=now + 2 * DAY, patient__user__isnull=False
        ).values_list("pk", "patient_id", "starts_at", "patient__user_id")
    )
    timing = patient_timing([v[1] for v in visits])
    return [
        row(
            Kind.VISIT_TOMORROW,
            pk,
            starts_at.astimezone(datetime.UTC).isoformat(),
            due_at=patient_due(max(starts_at - DAY, now), timing[patient_id]),
            user_id=user_id,
            patient_id=patient_id,
        )
        for pk, patient_id, starts_at, user_id in visits
    ]


@kind(Kind.VISIT_TOMORROW, link=visits_link, patient_facing=True)
def _visit_still_booked(reminder, now):
    visit = Visit.objects.filter(pk=reminder.object_id).values_list("status", "starts_at").first()
    if visit is None or visit[0] != Visit.Status.BOOKED:
        return "The visit was cancelled."
    if visit[1].astimezone(datetime.UTC).isoformat() != reminder.occasion.split("|", 1)[0]:
        return "The visit was moved to another time."
    if visit[1] <= now:
        return "The visit has started."
    return ""


def _unbooked(follow_ups):
    booked = Visit.objects.filter(follow_up=OuterRef("pk"), status=Visit.Status.BOOKED)
    return follow_ups.exclude(Exists(booked))


@planner
def plan_follow_ups_to_book(now):
    today = timezone.localdate(now)
    follow_ups = _unbooked(
        FollowUp.objects.pending().filter(
            due_on__gte=today,
            due_on__lte=today + BOOK_AHEAD,
            course__ended_at__isnull=True,
            patient__user__isnull=False,
        )
    )
    follow_ups = list(follow_ups.values_list("pk", "patient_id", "due_on", "patient__user_id"))
    timing = patient_timing([f[1] for f in follow_ups])
    return [
        row(
            Kind.FOLLOW_UP_TO_BOOK,
            pk,
            due_on.isoformat(),
            due_at=patient_due(now, timing[patient_id]),
            user_id=user_id,
            patient_id=patient_id,
        )
        for pk, patient_id, due_on, user_id in follow_ups
    ]


@kind(Kind.FOLLOW_UP_TO_BOOK, link=visits_link, patient_facing=True)
def _follow_up_still_unbooked(reminder, now):
    if not _unbooked(FollowUp.objects.pending().filter(pk=reminder.object_id)).exists():
        return "The follow-up visit is booked or signed."
    return ""

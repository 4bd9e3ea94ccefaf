"""Reads of the reminder delivery log; every one starts from kapcare.access."""

from django.db.models import Count

from kapcare import access
from kapcare.access import Permission
from patients.access import visible_patients

from .models import Reminder, ReminderPreference

CHART_LOG_SIZE = 20
LOG_PAGE_SIZE = 50


def visible_reminders(user):
    """Reminders about the patients the user may see. A role without Permission.VIEW_REMINDERS is refused
    by the caller (403); an outsider never finds the row (404)."""
    return Reminder.objects.filter(patient__in=visible_patients(user))


def for_list(queryset):
    return queryset.select_related("recipient", "patient").order_by("-due_at", "-id")


def delivery_log(user, *, status="", kind=""):
    """The coordinator's log, newest first, narrowed by status and kind when they are known values."""
    reminders = visible_reminders(user)
    if status in Reminder.Status.values:
        reminders = reminders.filter(status=status)
    if kind in Reminder.Kind.values:
        reminders = reminders.filter(kind=kind)
    return for_list(reminders)


def status_counts(user) -> dict:
    """{status: number of reminders} over the user's patients. One query."""
    rows = visible_reminders(user).values("status").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(Reminder.Status.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def chart_log(user, patient, *, limit=CHART_LOG_SIZE):
    """The latest reminders about one patient for their chart, or None when the user's role may not see
    the log. One query."""
    if not access.can(user, Permission.VIEW_REMINDERS):
        return None
    return list(for_list(visible_reminders(user).filter(patient=patient))[:limit])


def preference_for(patient):
    return ReminderPreference.objects.filter(patient=patient).first() or ReminderPreference(patient=patient)

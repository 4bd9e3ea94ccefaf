"""Reads for peer consultation, always starting from kapcare.access."""

from django.db.models import Prefetch

from kapcare import access
from kapcare.accounts.models import User

from .models import Attendance, ConsultationGroup, Meeting, Presentation


def visible_groups(user):
    groups = ConsultationGroup.objects.select_related("facilitator").prefetch_related("memberships")
    return access.visible_consultation_groups(user, groups)


def visible_meetings(user):
    groups = access.visible_consultation_groups(user, ConsultationGroup.objects.all())
    return Meeting.objects.filter(group__in=groups).select_related("group").prefetch_related("attendance")


def visible_presentations(user):
    """Presentations of the user's groups; the role is checked by the caller (VIEW_PRESENTATIONS)."""
    groups = access.visible_consultation_groups(user, ConsultationGroup.objects.all())
    return Presentation.objects.filter(group__in=groups).select_related("group", "meeting", "presenter")


def clinicians():
    """Every clinician account: what a group's facilitator and members are chosen from (the service narrows
    them to the actor's network)."""
    return User.objects.filter(role__in=User.CLINICIAN_ROLES)


def people(ids):
    return User.objects.filter(pk__in=ids)


def members(group):
    return User.objects.filter(pk__in=group.memberships.values("clinician_id")).order_by("last_name", "first_name")


def meeting_detail(meeting):
    """A meeting with who attended and its presentations, in a fixed number of queries."""
    attendance = Attendance.objects.select_related("clinician").order_by("clinician__last_name")
    return (
        Meeting.objects.select_related("group", "group__facilitator")
        .prefetch_related(Prefetch("attendance", queryset=attendance), "presentations__presenter")
        .get(pk=meeting.pk)
    )

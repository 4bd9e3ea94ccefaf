"""Reads of patients for views and the API; every one starts from kapcare.access."""

from django.db.models import Prefetch

from kapcare import access

from .models import CareTeamMember


def active_team_prefetch():
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.active().select_related("clinician").order_by("role", "active_from"),
        to_attr="active_team",
    )


def patients_for_list(user):
    """The user's patients in name order, with their active care team, in a fixed number of queries."""
    return access.visible_patients(user).for_list().prefetch_related(active_team_prefetch())


def patient_for_chart(user, patient_id, *, action):
    """One visible patient with their care team, or 404 (audited)."""
    return access.get_visible(patients_for_list(user), patient_id, user=user, action=action)

"""Reads of clinicians' credentials; every one starts from kapcare.access."""

from datetime import timedelta

from django.utils import timezone

from kapcare import access
from kapcare.access import Permission

from .models import DEARegistration, Licence

EXPIRING_WITHIN_DAYS = 60
EXPIRED_SHOWN_DAYS = 90


def expiring_credentials(user, *, today=None, limit=None):
    """The licences and DEA registrations of the clinicians a coordinator oversees that expire within
    EXPIRING_WITHIN_DAYS or expired in the last EXPIRED_SHOWN_DAYS, soonest first; [] for anyone else."""
    if not access.can(user, Permission.REVIEW_APPLICATION):  # the coordinators who verify credentials
        return []
    today = today or timezone.localdate()
    window = {
        "clinician__in": access.visible_clinicians(user).filter(is_active=True),
        "expires_on__lte": today + timedelta(days=EXPIRING_WITHIN_DAYS),
        "expires_on__gte": today - timedelta(days=EXPIRED_SHOWN_DAYS),
    }
    found = [
        *Licence.objects.filter(**window).select_related("clinician"),
        *DEARegistration.objects.filter(**window).select_related("clinician"),
    ]
    for credential in found:
        credential.days_left = (credential.expires_on - today).days
        credential.label = "DEA registration" if isinstance(credential, DEARegistration) else "Licence"
    found.sort(key=lambda credential: (credential.expires_on, str(credential.clinician)))
    return found[:limit] if limit else found

"""Reads for the account pages: clinicians' credentials (through kapcare.access) and a person's own API tokens."""

from datetime import date, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from knox.models import AuthToken

from kapcare import access, prepared
from kapcare.access import Permission

from .models import ApiToken, DEARegistration, Licence, ReferralStateException

EXPIRING_WITHIN_DAYS = 60
EXPIRED_SHOWN_DAYS = 90


def clinicians_with_credentials(user):
    """The clinicians whose credentials the user may see, with their licences, DEA registrations, training and
    live referral exceptions (one query each)."""
    return (
        access.visible_clinicians(user)
        .select_related("organization", "clinician_profile__approved_by")
        .prefetch_related(
            "licences",
            "dea_registrations",
            "kap_trainings",
            Prefetch(
                "referral_state_exceptions",
                queryset=ReferralStateException.objects.filter(revoked_at__isnull=True).select_related("granted_by"),
            ),
        )
        .order_by("role", "last_name", "first_name")
    )


def live_api_tokens(user):
    """The user's own API tokens that have not expired, newest first."""
    return AuthToken.objects.filter(user=user, expiry__gt=timezone.now()).select_related("details").order_by("-created")


def own_api_tokens(user):
    """The user's own API tokens, to look one up by id (someone else's is not found)."""
    return ApiToken.objects.select_related("auth_token").filter(auth_token__user=user)


def _expiring_rows(key, values):
    model, shape = key
    return model.objects.filter(
        clinician__in=access.visible_clinicians(prepared.user_of(shape, values)).filter(is_active=True),
        expires_on__lte=values.last_day,
        expires_on__gte=values.first_day,
    ).select_related("clinician")


# Built once per kind of credential and role (kapcare.prepared): the coordinator's dashboard shows it on every visit.
_EXPIRING_ROWS = prepared.Prepared(_expiring_rows, slots={**prepared.USER_SLOTS, "last_day": date, "first_day": date})


def expiring_credentials(user, *, today=None, limit=None):
    """The licences and DEA registrations of the clinicians a coordinator oversees that expire within
    EXPIRING_WITHIN_DAYS or expired in the last EXPIRED_SHOWN_DAYS, soonest first; [] for anyone else."""
    if not access.can(user, Permission.REVIEW_APPLICATION):  # the coordinators who verify credentials
        return []
    today = today or timezone.localdate()
    values = {
        **prepared.user_values(user),
        "last_day": today + timedelta(days=EXPIRING_WITHIN_DAYS),
        "first_day": today - timedelta(days=EXPIRED_SHOWN_DAYS),
    }
    shape = prepared.user_shape(user)
    found = [*_EXPIRING_ROWS((Licence, shape), **values), *_EXPIRING_ROWS((DEARegistration, shape), **values)]
    for credential in found:
        credential.days_left = (credential.expires_on - today).days
        credential.label = "DEA registration" if isinstance(credential, DEARegistration) else "Licence"
    found.sort(key=lambda credential: (credential.expires_on, str(credential.clinician)))
    return found[:limit] if limit else found

"""Reads for the account pages: clinicians' credentials (through kapcare.access) and a person's own API tokens."""

from django.db.models import Prefetch
from django.utils import timezone
from knox.models import AuthToken

from kapcare import access

from .models import ApiToken, ReferralStateException


def clinicians_with_credentials(user):
    """The clinicians whose credentials the user may see, with their licences, DEA registrations, training and
    live referral exceptions (one query each)."""
    return (
        access.visible_clinicians(user)
        .select_related("organization")
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

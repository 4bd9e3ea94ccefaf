"""Reads of applications to join the network; every one starts from kapcare.access."""

import uuid

from django.db.models import Prefetch

from kapcare import access
from kapcare.accounts.models import Organization

from .models import Application, CredentialCheck


def applications_for(user, *, status=None):
    """The applications to the coordinator's medical group (none for anyone else), newest first."""
    applications = access.visible_applications(user, Application.objects.all()).select_related("medical_group")
    return applications.filter(status=status) if status else applications


def application_detail(user, pk):
    """One visible application with its credentials and checks, or None (the caller answers 404): a malformed
    id too."""
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        return None
    checks = Prefetch("checks", queryset=CredentialCheck.objects.select_related("checked_by"))
    return (
        applications_for(user)
        .select_related("practice", "decided_by", "invited_by", "account")
        .prefetch_related("licences", "dea_registrations", checks)
        .filter(pk=pk)
        .first()
    )


def verification_of(application):
    """Each credential of the application as (key, label, value, check): `check` is the latest check made against
    the credential as it stands now (None when it was never checked, or was corrected since)."""
    checks = {}
    for check in application.checks.all():  # oldest first: the latest wins
        checks[(check.item, check.value)] = check
    return [(key, label, value, checks.get((key, value))) for key, label, value in application.items()]


def unverified_items(application):
    """The labels of the credentials not (or no longer) verified."""
    return [
        f"{label} ({value})"
        for _, label, value, check in verification_of(application)
        if check is None or check.outcome != CredentialCheck.Outcome.VERIFIED
    ]


def therapy_practices():
    """The practices an approved therapist may join (the approval form's choices)."""
    return Organization.objects.filter(kind=Organization.Kind.THERAPY_PRACTICE)

"""Demo applicants for seed_demo (CONTRACT.md): one approved (their account opens, not yet trained: they cannot
refer until the network's KAP training is recorded) and one pending, its credentials half verified."""

from datetime import timedelta

from django.utils import timezone

from kapcare.accounts.models import User

from . import selectors, services
from .models import Application, CredentialCheck

APPROVED = ("Robin", "Hale", "applicant.approved", User.Role.THERAPIST)
PENDING = ("Kai", "Morales", "applicant.pending", User.Role.PRESCRIBER)
NPIS = {"applicant.approved": "1234567893", "applicant.pending": "1245319599"}


def _apply(first, last, email, role, medical_group):
    today = timezone.localdate()
    licence = {
        "kind": "lmft" if role == User.Role.THERAPIST else "md",
        "state": "CA",
        "number": f"{role[:3].upper()}-{last.upper()}",
        "expires_on": today + timedelta(days=400),
    }
    dea = [{"state": "CA", "number": "BM1234563", "expires_on": today + timedelta(days=400)}]
    services.application_apply(
        email=email,
        medical_group=medical_group,
        role=role,
        fields={
            "first_name": first,
            "last_name": last,
            "npi": NPIS[email.split("@")[0]],
            "malpractice_carrier": "CareGuard Mutual",
            "malpractice_policy_number": f"CG-{last.upper()}",
            "malpractice_expires_on": today + timedelta(days=300),
        },
        licences=[licence],
        dea_registrations=dea if role == User.Role.PRESCRIBER else [],
    )
    return Application.objects.get(email=email)


def _check(coordinator, application, items):
    for key, _, _, check in selectors.verification_of(application):
        if key in items and check is None:
            services.credential_check(
                actor=coordinator,
                application=application,
                item=key,
                outcome=CredentialCheck.Outcome.VERIFIED,
                source="Demo data: state board and NPPES registry lookups.",
            )


def seed_applicants(*, coordinator, practice, domain, password):
    """Idempotent: an applicant already on file is left as it is."""
    group = coordinator.organization
    first, last, local, role = APPROVED
    email = f"{local}@{domain}"
    if not Application.objects.filter(email=email).exists():
        application = _apply(first, last, email, role, group)
        _check(coordinator, application, {key for key, *_ in application.items()})
        application = services.application_approve(actor=coordinator, application=application, practice=practice)
        application.account.set_password(password)
        application.account.save(update_fields=["password"])
    first, last, local, role = PENDING
    email = f"{local}@{domain}"
    if not Application.objects.filter(email=email).exists():
        application = _apply(first, last, email, role, group)
        _check(coordinator, application, {"npi"})

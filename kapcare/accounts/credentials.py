"""The credential rules a signature or a referral checks, read from a clinician's credentials.

Signing an evaluation, a dose plan or a follow-up (services of assessments and treatment) needs, for the
patient's state: a current licence, a current DEA registration, and KAP training recorded. A referral needs
the therapist's current licence in the client's state, or a coordinator's documented exception. A refusal
is a RuleRefused naming every credential that is missing, so the API answers 409 and the portal shows it.
"""

from django.utils import timezone

from kapcare.rules import RuleRefused
from kapcare.us_states import USState

from .models import DEARegistration, KAPTraining, Licence, ReferralStateException

SIGNER_CREDENTIALS = "signer_credentials"
REFERRER_LICENCE = "referrer_licence"


def _state_name(state):
    return USState(state).label if state in USState.values else state


def _day(value):
    return f"{value:%b} {value.day}, {value.year}"


def current_licence(clinician, state, today=None):
    """The clinician's licence in `state` that expires last and is still current, or None."""
    today = today or timezone.localdate()
    return (
        Licence.objects.filter(clinician=clinician, state=state, expires_on__gte=today).order_by("-expires_on").first()
    )


def licence_gap(clinician, state, today=None):
    """Why the clinician may not practise in `state` ("no licence in Oregon on file", "the licence ... expired
    on ..."), or None when a current licence covers it."""
    today = today or timezone.localdate()
    if current_licence(clinician, state, today) is not None:
        return None
    lapsed = Licence.objects.filter(clinician=clinician, state=state).order_by("-expires_on").first()
    if lapsed is not None:
        return f"the licence in {_state_name(state)} ({lapsed.number}) expired on {_day(lapsed.expires_on)}"
    return f"no licence in {_state_name(state)} on file"


def missing_to_sign(clinician, state, today=None) -> list[str]:
    """What keeps `clinician` from signing for a patient living in `state`: one phrase per missing credential."""
    today = today or timezone.localdate()
    missing = []
    licence = licence_gap(clinician, state, today)
    if licence:
        missing.append(licence)
    registrations = DEARegistration.objects.filter(clinician=clinician, state=state)
    if not registrations.filter(expires_on__gte=today).exists():
        lapsed = registrations.order_by("-expires_on").first()
        missing.append(
            f"the DEA registration for {_state_name(state)} expired on {_day(lapsed.expires_on)}"
            if lapsed
            else f"no DEA registration for {_state_name(state)} on file"
        )
    if not KAPTraining.objects.filter(clinician=clinician, completed_on__lte=today).exists():
        missing.append("no KAP training recorded")
    return missing


def require_to_sign(clinician, patient, what):
    """Refuse the signature of `what` ("this evaluation") unless the clinician's credentials are current for
    the patient's state."""
    missing = missing_to_sign(clinician, patient.state)
    if missing:
        raise RuleRefused(
            f"Rule “current credentials”: {clinician} cannot sign {what} for a patient in "
            f"{_state_name(patient.state)}: {'; '.join(missing)}. A coordinator or administrator records "
            "credentials on the clinician's profile.",
            code=SIGNER_CREDENTIALS,
        )


def referral_exception(therapist, state):
    return ReferralStateException.objects.filter(therapist=therapist, state=state, revoked_at__isnull=True).first()


def require_to_refer(therapist, state):
    """Refuse a referral of a client living in `state` unless the therapist holds a current licence there or
    a coordinator has recorded an exception for that state."""
    gap = licence_gap(therapist, state, timezone.localdate())
    if gap and referral_exception(therapist, state) is None:
        raise RuleRefused(
            f"Rule “licence covers the client's state”: {gap}, so {therapist} cannot refer a client living in "
            f"{_state_name(state)}. Your medical group's coordinator can record a documented exception.",
            code=REFERRER_LICENCE,
        )

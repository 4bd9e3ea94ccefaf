"""The credential rules a signature or a referral checks, read from a clinician's credentials.

Every practice needs the network's approval (ClinicianProfile.approved_at) and KAP training recorded. Signing an
evaluation, a dose plan or a follow-up (services of assessments and treatment), and being assigned as a patient's
prescriber, needs for the patient's state a current, verified licence and DEA registration. A referral needs the
therapist's current, verified licence in the client's state, or a coordinator's documented exception. A refusal
is a RuleRefused naming every credential that is missing, so the API answers 409 and the portal shows it.
"""

import uuid
from datetime import date

from django.db.models import Exists, OuterRef
from django.utils import timezone

from kapcare import prepared
from kapcare.rules import RuleRefused
from kapcare.us_states import USState

from .models import ClinicianProfile, DEARegistration, KAPTraining, Licence, ReferralStateException, User

SIGNER_CREDENTIALS = "signer_credentials"
REFERRER_LICENCE = "referrer_licence"
REFERRER_STANDING = "referrer_standing"


def _state_name(state):
    return USState(state).label if state in USState.values else state


def _day(value):
    return f"{value:%b} {value.day}, {value.year}"


def _current(credentials, today):
    """The credentials among `credentials` that count: not expired (the expiry day itself counts) and verified."""
    return credentials.filter(expires_on__gte=today, verified_at__isnull=False)


def current_licence(clinician, state, today=None):
    """The clinician's verified licence in `state` that expires last and is still current, or None."""
    today = today or timezone.localdate()
    licences = Licence.objects.filter(clinician=clinician, state=state)
    return _current(licences, today).order_by("-expires_on").first()


def _gap(credentials, today, *, none, unverified, lapsed):
    """Why none of `credentials` counts (the phrases take the newest one), or None when one does."""
    if _current(credentials, today).exists():
        return None
    newest = credentials.order_by("-expires_on").first()
    if newest is None:
        return none
    return (unverified if newest.expires_on >= today else lapsed).format(
        number=newest.number, day=_day(newest.expires_on)
    )


def licence_gap(clinician, state, today=None):
    """Why the clinician may not practise in `state` ("no licence in Oregon on file", "the licence ... expired
    on ...", "... is not verified yet"), or None when a current, verified licence covers it."""
    name = _state_name(state)
    return _gap(
        Licence.objects.filter(clinician=clinician, state=state),
        today or timezone.localdate(),
        none=f"no licence in {name} on file",
        unverified=f"the licence in {name} ({{number}}) is not verified yet",
        lapsed=f"the licence in {name} ({{number}}) expired on {{day}}",
    )


def dea_gap(clinician, state, today=None):
    name = _state_name(state)
    return _gap(
        DEARegistration.objects.filter(clinician=clinician, state=state),
        today or timezone.localdate(),
        none=f"no DEA registration for {name} on file",
        unverified=f"the DEA registration for {name} is not verified yet",
        lapsed=f"the DEA registration for {name} expired on {{day}}",
    )


def standing_gaps(clinician, today=None) -> list[str]:
    """What keeps the clinician from practising in any state: the network's approval and KAP training."""
    today = today or timezone.localdate()
    gaps = []
    if not ClinicianProfile.objects.filter(user=clinician, approved_at__isnull=False).exists():
        gaps.append("not yet approved by the network")
    if not KAPTraining.objects.filter(clinician=clinician, completed_on__lte=today).exists():
        gaps.append("no KAP training recorded")
    return gaps


def missing_to_sign(clinician, state, today=None) -> list[str]:
    """What keeps `clinician` from signing for a patient living in `state`: one phrase per missing credential
    (one query when nothing is missing, as is usual)."""
    today = today or timezone.localdate()
    if _CLEARED_TO_SIGN(state, clinician_id=clinician.pk, today=today):
        return []
    gaps = [licence_gap(clinician, state, today), dea_gap(clinician, state, today)]
    return [gap for gap in gaps if gap] + standing_gaps(clinician, today)


def missing_to_treat(clinician, state, today=None) -> list[str]:
    """What keeps `clinician` from joining the care team of a patient in `state`: a prescriber needs all that
    signing needs (an assigned prescriber who cannot sign would hold the course up), a therapist a licence
    there, the network's approval and KAP training."""
    if clinician.role == clinician.Role.PRESCRIBER:
        return missing_to_sign(clinician, state, today)
    gap = licence_gap(clinician, state, today)
    return ([gap] if gap else []) + standing_gaps(clinician, today)


def cleared_to_sign(clinicians, state, today=None):
    """Those of the `clinicians` queryset for whom missing_to_sign(state) is empty, as a queryset."""
    today = today or timezone.localdate()
    mine_in_state = {"clinician": OuterRef("pk"), "state": state}
    return clinicians.filter(
        Exists(_current(Licence.objects.filter(**mine_in_state), today)),
        Exists(_current(DEARegistration.objects.filter(**mine_in_state), today)),
        Exists(KAPTraining.objects.filter(clinician=OuterRef("pk"), completed_on__lte=today)),
        clinician_profile__approved_at__isnull=False,
    )


def _cleared_to_sign(state, values):
    clinicians = User.objects.filter(pk=values.clinician_id)
    return cleared_to_sign(clinicians, state, values.today).values("pk")


# Asked before every signature and prescriber assignment: built once per process and state.
_CLEARED_TO_SIGN = prepared.Prepared(_cleared_to_sign, slots={"clinician_id": uuid.UUID, "today": date})


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
    """Refuse a referral of a client living in `state` unless the therapist is approved by the network and
    trained, and holds a current licence there or a coordinator has recorded an exception for that state."""
    standing = standing_gaps(therapist)
    if standing:
        raise RuleRefused(
            f"Rule “approved and trained”: {therapist} cannot refer clients yet: {'; '.join(standing)}. A "
            "coordinator approves an application to the network; the network's KAP training is recorded when "
            "completed.",
            code=REFERRER_STANDING,
        )
    gap = licence_gap(therapist, state, timezone.localdate())
    if gap and referral_exception(therapist, state) is None:
        raise RuleRefused(
            f"Rule “licence covers the client's state”: {gap}, so {therapist} cannot refer a client living in "
            f"{_state_name(state)}. Your medical group's coordinator can record a documented exception.",
            code=REFERRER_LICENCE,
        )

"""Factories for people and organizations. Patients are made through services (see fixtures.py)."""

from datetime import date
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from assessments.models import MEDICAL_CONDITIONS
from kapcare.accounts.models import ClinicianProfile, DEARegistration, KAPTraining, Licence, Organization, User

PASSWORD = "correct-horse-battery-staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    kind = Organization.Kind.THERAPY_PRACTICE


class MedicalGroupFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Medical group {n}")
    kind = Organization.Kind.MEDICAL_GROUP


class PracticeFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Therapy practice {n}")
    kind = Organization.Kind.THERAPY_PRACTICE
    medical_group = factory.SubFactory(MedicalGroupFactory)


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a verified e-mail address (allauth refuses MFA enrolment without one)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.THERAPIST
    # Hashed before the INSERT: set_password() after it took a second save, and a changed password's token
    # revocation (kapcare.accounts.signals), for every user of every test.
    password = factory.LazyFunction(lambda: make_password(PASSWORD))

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ClinicianProfileFactory(factory.django.DjangoModelFactory):
    """A clinician's profile, approved by the network, with current verified credentials: a licence in
    `licence_state` (and each state of `also_licensed_in`), KAP training, and for a prescriber a DEA
    registration in each of those states."""

    class Meta:
        model = ClinicianProfile

    licence_state = "CA"
    also_licensed_in = ()
    licence_number = factory.Sequence(lambda n: f"LIC-{n:05d}")
    licence_expires = date(2099, 12, 31)  # current in every time the tests travel to
    approved_at = factory.LazyFunction(timezone.now)  # approved by the network, as every cast clinician

    @classmethod
    def _create(cls, model_class, *args, licence_state, also_licensed_in, licence_number, licence_expires, **kwargs):
        profile = super()._create(model_class, *args, **kwargs)
        user = profile.user
        for n, state in enumerate([licence_state, *also_licensed_in]):
            number = licence_number if n == 0 else f"{licence_number}-{state}"
            Licence.objects.create(
                clinician=user, state=state, number=number, expires_on=licence_expires, verified_at=timezone.now()
            )
            if user.role == User.Role.PRESCRIBER:
                digits = "".join(c for c in number if c.isdigit())[-7:].rjust(7, "0")
                DEARegistration.objects.create(
                    clinician=user,
                    state=state,
                    number=f"B{state[0]}{digits}",
                    expires_on=licence_expires,
                    verified_at=timezone.now(),
                )
        KAPTraining.objects.create(
            clinician=user, completed_on=date(2024, 3, 1), provider="KAP Institute", title="KAP foundations"
        )
        return profile


def enrol_totp(user):
    """Give the user a TOTP authenticator, as finishing allauth's enrolment would. Returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


# The one complete intake answer set: every screening question answered, no flag raised. Tests that need a
# finding change one answer of it.
INTAKE_ANSWERS = {
    **dict.fromkeys(MEDICAL_CONDITIONS, False),
    "psychosis": False,
    "schizophrenia_spectrum": False,
    "family_psychosis": False,
    "mania_or_bipolar": False,
    "suicide_attempt": False,
    "psychiatric_hospitalisation": False,
    "suicidal_thoughts": False,
    "personality_disorder": False,
    "takes_medications": False,
    "alcohol_drinks_per_week": 2,
    "can_abstain_alcohol_24h": True,
    "uses_cannabis": False,
    "uses_recreational_drugs": False,
    "substance_use_disorder": "none",
    "pregnant": False,
    "breastfeeding": False,
    "ivf": False,
    "allergies": "None known",
    "height_cm": 172,
    "weight_kg": Decimal("80.0"),
    "bp_systolic": 124,
    "bp_diastolic": 78,
    "pulse": 72,
    "has_support_person": True,
}

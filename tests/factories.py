"""Factories for people and organizations. Patients are made through services (see conftest)."""

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from kapcare.accounts.models import ClinicianProfile, Organization, User

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
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ClinicianProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicianProfile

    licence_state = "CA"
    licence_number = factory.Sequence(lambda n: f"LIC-{n:05d}")
    licence_expires = factory.LazyFunction(lambda: timezone.localdate().replace(year=timezone.localdate().year + 1))


def enrol_totp(user):
    """Give the user a TOTP authenticator, as finishing allauth's enrolment would. Returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret

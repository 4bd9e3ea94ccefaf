"""Applications to join the network: what a therapist or prescriber declares, and each credential's check.

An application is not an account. A coordinator of the medical group checks each credential against a document
or a registry lookup (CredentialCheck, kept: who, when, against what), asks for corrections or approves; approval
opens the account and writes the credentials into kapcare.accounts (network.joining.services)."""

import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from kapcare.accounts.models import Licence, User
from kapcare.us_states import USState


def npi_is_valid(npi: str) -> bool:
    """A National Provider Identifier: 10 digits whose last is the Luhn check digit of "80840" + the first 9."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for position, digit in enumerate(reversed("80840" + npi[:9])):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(npi[9])


def validate_npi(npi):
    if not npi_is_valid(npi):
        raise ValidationError("Enter the 10-digit NPI as issued (its last digit is a check digit).")


class ApplicationQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=[Application.Status.APPROVED, Application.Status.DECLINED])


class Application(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited, not yet submitted"
        SUBMITTED = "submitted", "Submitted: to verify"
        CORRECTIONS = "corrections", "Corrections asked"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    ROLES = [(User.Role.THERAPIST.value, "Therapist"), (User.Role.PRESCRIBER.value, "Prescriber")]
    # What the applicant declares about themself (their credentials are rows of their own).
    APPLICANT_FIELDS = (
        "first_name",
        "last_name",
        "npi",
        "malpractice_carrier",
        "malpractice_policy_number",
        "malpractice_expires_on",
        "training_provider",
        "training_title",
        "training_completed_on",
        "training_certificate_number",
    )
    LINK_VALID_DAYS = 14

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    medical_group = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "medical_group"},
    )
    role = models.CharField(max_length=20, choices=ROLES)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField("e-mail address")
    npi = models.CharField("NPI", max_length=10, blank=True)
    malpractice_carrier = models.CharField(max_length=200, blank=True)
    malpractice_policy_number = models.CharField(max_length=100, blank=True)
    malpractice_expires_on = models.DateField(null=True, blank=True)
    training_provider = models.CharField("KAP training provider", max_length=200, blank=True)
    training_title = models.CharField("KAP training course", max_length=200, blank=True)
    training_completed_on = models.DateField("KAP training completed on", null=True, blank=True)
    training_certificate_number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The applicant's link (an invitation, or a request for corrections): only its hash is kept.
    link_hash = models.CharField(max_length=64, blank=True, db_index=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    corrections = models.TextField("corrections asked", max_length=2000, blank=True)
    practice = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    account = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="network_application"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["medical_group", "status"], name="application_queue")]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(status__in=["approved", "declined"]),
                name="application_open_once_per_email",
            )
        ]

    def __str__(self):
        return f"Application of {self.first_name} {self.last_name} ({self.get_role_display()})"

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    @property
    def is_prescriber(self):
        return self.role == User.Role.PRESCRIBER

    @property
    def declares_training(self):
        return bool(self.training_title or self.training_provider or self.training_completed_on)

    def items(self):
        """Every credential to verify, as (key, label, value): the value a check was made against, so a
        corrected credential needs checking again."""
        items = [("npi", "NPI", self.npi)]
        items += [(f"licence:{lic.pk}", "Licence", lic.value) for lic in self.licences.all()]
        items += [(f"dea:{dea.pk}", "DEA registration", dea.value) for dea in self.dea_registrations.all()]
        malpractice = f"{self.malpractice_carrier}, policy {self.malpractice_policy_number}, until "
        items.append(("malpractice", "Malpractice cover", malpractice + str(self.malpractice_expires_on)))
        if self.declares_training:
            training = f"{self.training_title}, {self.training_provider}, {self.training_completed_on}"
            items.append(("training", "KAP training", f"{training}, no. {self.training_certificate_number}"))
        return items


class ApplicationCredential(models.Model):
    state = models.CharField(max_length=2, choices=USState.choices)
    expires_on = models.DateField()

    class Meta:
        abstract = True


class ApplicationLicence(ApplicationCredential):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="licences")
    kind = models.CharField("type", max_length=20, choices=Licence.Kind.choices)
    number = models.CharField(max_length=50)

    class Meta:
        ordering = ["state", "id"]

    def __str__(self):
        return self.value

    @property
    def value(self):
        return f"{self.get_kind_display()} {self.state} {self.number}, until {self.expires_on}"


class ApplicationDEARegistration(ApplicationCredential):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="dea_registrations")
    number = models.CharField("DEA number", max_length=9)

    class Meta:
        verbose_name = "application DEA registration"
        ordering = ["state", "id"]

    def __str__(self):
        return self.value

    @property
    def value(self):
        return f"DEA {self.state} {self.number}, until {self.expires_on}"


class CredentialCheck(models.Model):
    """One check of one credential of an application by a coordinator: the verification trail."""

    class Outcome(models.TextChoices):
        VERIFIED = "verified", "Verified"
        PROBLEM = "problem", "Does not match"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="checks")
    item = models.CharField(max_length=60)
    value = models.CharField(max_length=400, help_text="The credential as it stood when checked.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    source = models.CharField(
        max_length=500, help_text="What it was checked against: a registry lookup, a document (and its reference)."
    )
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["checked_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(source=""), name="credential_check_has_source")]

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.item}"

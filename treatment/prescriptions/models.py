"""Prescriptions and the controlled-substance records around them (ketamine is Schedule III).

A prescription belongs to a signed dose plan and is written under the prescriber's DEA registration for the
patient's state, after a fresh PDMP check. Its fills (pickup or delivery) are bound by the Schedule III limits
(21 CFR 1306.22): at most 5 refills, none more than 6 months after the issue date. What goes to the pharmacy
(the prescription, a cancellation with its reason) is kept as PharmacyNotice rows, each with its channel.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from kapcare.us_states import USState

MAX_REFILLS = 5  # Schedule III (21 CFR 1306.22)
REFILL_MONTHS = 6  # no fill or refill more than 6 months after the issue date


class PDMPCheck(models.Model):
    """The prescriber's attestation that they checked the state's prescription-drug-monitoring program."""

    class Result(models.TextChoices):
        NO_CONCERNS = "no_concerns", "No concerns found"
        CONCERNS = "concerns", "Concerns found (see the note)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="pdmp_checks")
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pdmp_checks")
    checked_on = models.DateField("checked on")
    state = models.CharField(max_length=2, choices=USState.choices)
    result = models.CharField(max_length=12, choices=Result.choices)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "PDMP check"
        ordering = ["-checked_on", "-created_at"]

    def __str__(self):
        return f"PDMP check {self.state} {self.checked_on}"


class Prescription(models.Model):
    """A prescription for the medicine of a signed dose plan. Issued once and never edited: a change is a
    cancellation (its reason goes to the pharmacy) and a new prescription."""

    class Formulation(models.TextChoices):
        SUBLINGUAL_RDT = "sublingual_rdt", "Sublingual rapid-dissolve tablet"
        TROCHE = "troche", "Troche (lozenge)"
        IM_SOLUTION = "im_solution", "Intramuscular solution"

    class Channel(models.TextChoices):
        PRINTED = "printed", "Printed"
        FAXED = "faxed", "Faxed"
        ELECTRONIC = "electronic", "Electronic (EPCS)"

    class Encounter(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        TELEMEDICINE = "telemedicine", "Telemedicine (real-time audio-video)"
        NOT_RECORDED = "not_recorded", "Not recorded"

    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        CANCELLED = "cancelled", "Cancelled"

    CONTENT_FIELDS = (
        "medication",
        "formulation",
        "strength_mg",
        "directions",
        "quantity",
        "refills",
        "days_supply",
        "pharmacy_name",
        "pharmacy_address",
        "pharmacy_phone",
        "pharmacy_ncpdp_id",
        "issued_on",
        "channel",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="prescriptions")
    course = models.ForeignKey("treatment.TreatmentCourse", on_delete=models.PROTECT, related_name="prescriptions")
    dose_plan = models.ForeignKey("treatment.DosePlan", on_delete=models.PROTECT, related_name="prescriptions")
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prescriptions")
    dea_registration = models.ForeignKey(
        "accounts.DEARegistration", on_delete=models.PROTECT, related_name="prescriptions"
    )
    pdmp_check = models.ForeignKey(PDMPCheck, on_delete=models.PROTECT, related_name="prescriptions")
    medication = models.CharField(max_length=20, default="ketamine")
    formulation = models.CharField(max_length=20, choices=Formulation.choices)
    strength_mg = models.DecimalField(
        "strength (mg per tablet, or mg per mL)",
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("1000"))],
    )
    directions = models.TextField(max_length=2000)
    quantity = models.DecimalField(
        "quantity (tablets, or mL)",
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    quantity_derived = models.DecimalField("quantity the dose plan needs", max_digits=6, decimal_places=1)
    quantity_reason = models.TextField("why the quantity differs from the plan's", blank=True, max_length=2000)
    refills = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_REFILLS)])
    days_supply = models.PositiveSmallIntegerField(
        "days' supply", validators=[MinValueValidator(1), MaxValueValidator(180)]
    )
    pharmacy_name = models.CharField(max_length=200)
    pharmacy_address = models.CharField(max_length=300)
    pharmacy_phone = models.CharField(max_length=30)
    pharmacy_ncpdp_id = models.CharField(
        "pharmacy NCPDP id", max_length=7, validators=[RegexValidator(r"^\d{7}$", "An NCPDP id is 7 digits.")]
    )
    issued_on = models.DateField()
    channel = models.CharField("transmission channel", max_length=12, choices=Channel.choices)
    evaluation_encounter = models.CharField(max_length=14, choices=Encounter.choices)
    last_in_person_on = models.DateField("last in-person visit", null=True, blank=True)
    telemedicine_attested = models.BooleanField("telemedicine rule attested", default=False)
    refills_left_reason = models.TextField(
        "why a new prescription while an earlier one has refills left", blank=True, max_length=2000
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.TextField(blank=True, max_length=2000)
    content_hash = models.CharField("SHA-256 of the prescription", max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(refills__lte=MAX_REFILLS), name="prescription_schedule_iii_refills"),
            models.CheckConstraint(
                condition=Q(status="issued") | ~Q(cancel_reason=""), name="prescription_cancel_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="prescription_patient_status")]

    def __str__(self):
        return f"Prescription {self.pk} ({self.get_status_display()})"

    @property
    def is_active(self):
        return self.status == self.Status.ISSUED

    @property
    def unit(self):
        return "mL" if self.formulation == self.Formulation.IM_SOLUTION else "tablets"

    def signed_content(self):
        content = {name: getattr(self, name) for name in self.CONTENT_FIELDS}
        content.update(
            id=str(self.pk),
            patient=str(self.patient_id),
            dose_plan=str(self.dose_plan_id),
            prescriber=str(self.prescriber_id),
            dea=self.dea_registration.number,
        )
        return content


class PrescriptionFill(models.Model):
    """The medicine of a prescription in the patient's hands: the first fill or a refill, picked up or
    delivered. Append-only."""

    class Method(models.TextChoices):
        PICKUP = "pickup", "Picked up at the pharmacy"
        DELIVERY = "delivery", "Delivered"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="fills")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField("fill number (0: the first fill)")
    filled_on = models.DateField()
    method = models.CharField(max_length=10, choices=Method.choices)
    quantity = models.DecimalField(max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["prescription", "number"], name="prescription_fill_once"),
            models.CheckConstraint(condition=Q(number__lte=MAX_REFILLS), name="prescription_fill_refill_limit"),
        ]

    def __str__(self):
        return f"Fill {self.number} of {self.prescription_id}"


class PharmacyNotice(models.Model):
    """What was sent to the pharmacy about a prescription, by which channel: the prescription itself, or
    its cancellation with the reason. Append-only."""

    class Kind(models.TextChoices):
        NEW = "new", "New prescription"
        CANCEL = "cancel", "Cancellation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="pharmacy_notices")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=12, choices=Prescription.Channel.choices)
    reason = models.TextField(blank=True, max_length=2000)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.prescription_id}"


class StockSite(models.Model):
    """An office that holds ketamine for in-office (intramuscular) dosing, with its own controlled-substance log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    medical_group = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="stock_sites")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    clinicians = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="stock_sites",
        verbose_name="clinicians working at the site",
        help_text="Besides the medical group's prescribers, who keep every site's log.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StockEntry(models.Model):
    """One line of a site's controlled-substance log, in mg of ketamine. Append-only. A receipt opens a lot
    (number, expiry); an administration (linked to its dosing session) and a waste (witnessed by a second
    clinician) draw on a lot; a count records what was physically there against the running balance."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        ADMINISTRATION = "administration", "Administration"
        WASTE = "waste", "Waste (witnessed)"
        COUNT = "count", "Count"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(StockSite, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    lot = models.CharField(max_length=50)
    expires_on = models.DateField(null=True, blank=True, help_text="For a receipt: the lot's expiry.")
    quantity_mg = models.DecimalField(
        "quantity (mg): received, given, wasted, or counted",
        max_digits=8,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0"))],
    )
    expected_mg = models.DecimalField(
        "balance expected at a count (mg)", max_digits=8, decimal_places=1, null=True, blank=True
    )
    session = models.ForeignKey(
        "treatment.TherapySession", null=True, blank=True, on_delete=models.PROTECT, related_name="stock_entries"
    )
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "stock entries"
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="administration") | Q(session__isnull=False), name="stock_administration_session"
            ),
            models.CheckConstraint(
                condition=~Q(kind="waste") | (Q(witness__isnull=False) & ~Q(witness=models.F("recorded_by"))),
                name="stock_waste_witnessed",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity_mg} mg ({self.lot})"

    @property
    def discrepancy_mg(self):
        if self.kind != self.Kind.COUNT or self.expected_mg is None:
            return None
        return self.quantity_mg - self.expected_mg


class MedicineCount(models.Model):
    """Take-home tablets remaining, reported by the patient or counted at a dosing session, against what the
    fills and the doses recorded leave. A mismatch is flagged to the prescriber (a safety alert)."""

    class Source(models.TextChoices):
        PATIENT = "patient", "Reported by the patient"
        CLINICIAN = "clinician", "Counted at a dosing session"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="medicine_counts")
    session = models.ForeignKey(
        "treatment.TherapySession", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    remaining = models.DecimalField(max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0"))])
    expected = models.DecimalField(max_digits=6, decimal_places=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"{self.remaining} left ({self.patient_id})"

    @property
    def discrepancy(self):
        return self.remaining - self.expected

"""Psychiatric supervision of prescribers (issue 18): who supervises whom, the policy that picks signed records for
review, and the review of each picked record. A SupervisionCase row exists for every signed record the selection
has considered (`reason` blank: considered, not picked), so the reconcile task never looks at a record twice."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class SupervisionAssignment(models.Model):
    """A prescriber's supervising psychiatrist (itself a prescriber, flagged as supervisor by having supervisees).
    A supervisor is never supervised by their own supervisee."""

    prescriber = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervision")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisees")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(prescriber=models.F("supervisor")), name="supervision_not_self")
        ]

    def __str__(self):
        return f"{self.supervisor} supervises {self.prescriber}"

    def clean(self):
        if self.prescriber_id == self.supervisor_id:
            raise ValidationError("A prescriber cannot supervise themself.")
        mutual = SupervisionAssignment.objects.filter(
            prescriber_id=self.supervisor_id, supervisor_id=self.prescriber_id
        )
        if mutual.exists():
            raise ValidationError("A supervisor cannot be supervised by their own supervisee.")


class SupervisionPolicy(models.Model):
    """Which signed records go to supervision, as data a coordinator and every prescriber can read. Sampling is
    deterministic: a record is sampled when sha256(seed:record id) falls below the percentage, so anyone can
    recompute why a record was (or was not) picked."""

    medical_group = models.OneToOneField("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    first_patients = models.PositiveSmallIntegerField(
        default=5, help_text="Every evaluation of a prescriber's first N patients goes to supervision."
    )
    sample_percent = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(100)], help_text="Then this percentage of evaluations, sampled."
    )
    sample_seed = models.CharField(max_length=32, default="kapcare", help_text="Recorded with the policy.")
    mg_per_kg_threshold = models.DecimalField(
        max_digits=4, decimal_places=2, default=Decimal("2.50"), validators=[MinValueValidator(0)]
    )
    dose_increase_percent = models.PositiveSmallIntegerField(default=25)
    review_days = models.PositiveSmallIntegerField(default=7, validators=[MinValueValidator(1)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "supervision policies"

    def __str__(self):
        return f"Supervision policy of {self.medical_group}"


class SupervisionCase(models.Model):
    """One signed record the selection considered; picked for review when `reason` is set."""

    class Kind(models.TextChoices):
        EVALUATION = "evaluation", "Evaluation"
        DOSE_PLAN = "dose_plan", "Dose plan"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Reason(models.TextChoices):
        NOT_PICKED = "", "Not picked"
        FIRST_PATIENTS = "first_patients", "One of the prescriber's first patients"
        SAMPLED = "sampled", "Sampled"
        MG_PER_KG = "mg_per_kg", "Dose above the mg/kg threshold"
        DOSE_INCREASE = "dose_increase", "Dose increase above the policy's percentage"
        ADVERSE_EVENT = "adverse_event", "Discontinued after an adverse event"
        DISMISSED_ABSOLUTE_FLAG = "dismissed_flag", "Eligible over a dismissed absolute flag"

    class Verdict(models.TextChoices):
        AGREE = "agree", "Agree"
        DISCUSS = "discuss", "Discuss"
        DISAGREE = "disagree", "Disagree"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    record_id = models.UUIDField()
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    considered_at = models.DateTimeField(auto_now_add=True)
    due_on = models.DateField(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, blank=True)
    comment = models.TextField(blank=True, max_length=5000)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the supervisor was told it is overdue.")
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="When the coordinators were told.")

    class Meta:
        ordering = ["due_on", "considered_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id"], name="supervision_case_once"),
            models.CheckConstraint(
                condition=Q(reason="") | (Q(supervisor__isnull=False) & Q(due_on__isnull=False)),
                name="supervision_picked_has_supervisor",
            ),
        ]
        indexes = [models.Index(fields=["supervisor", "reviewed_at", "due_on"], name="supervision_queue")]

    def __str__(self):
        return f"Supervision of {self.get_kind_display().lower()} {self.record_id}"

    @property
    def needs_acknowledgement(self):
        return self.verdict == self.Verdict.DISAGREE and self.acknowledged_at is None


class SupervisionComment(models.Model):
    """The supervision thread a "discuss" opens: supervisor and prescriber write back and forth on the case."""

    case = models.ForeignKey(SupervisionCase, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Comment by {self.author} on {self.case}"

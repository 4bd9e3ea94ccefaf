"""Care-team and patient threads, their messages and receipts, and in-app notifications.

Every row names its patient and derives its access from them (kapcare.access): nothing here stores an ACL.
A message's recipients are frozen when it is sent (`MessageRecipient`), so its read receipts and, for an
urgent one, who has and has not acknowledged it stay true after the team changes."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Thread(models.Model):
    """One of the two conversations about a patient: the clinicians' own, and the one with the patient."""

    class Kind(models.TextChoices):
        CARE_TEAM = "care_team", "Care team"
        PATIENT = "patient", "With the patient"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="threads")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["patient", "kind"], name="thread_one_per_patient_and_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} thread of {self.patient_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Message"
        INTEGRATION_SUMMARY = "integration_summary", "Integration summary"
        SIDE_EFFECT_REPORT = "side_effect_report", "Side-effect report"
        DOSE_CHANGE = "dose_change", "Dose change"
        SYSTEM_EVENT = "system_event", "Course event"

    MAX_BODY = 5000

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(blank=True, max_length=MAX_BODY)
    # A structured kind's card: {"title": str, "rows": [[label, value], ...]}, copied from the record when shared.
    card = models.JSONField(default=dict, blank=True)
    source_type = models.CharField(
        max_length=50, blank=True, help_text="The record shared, e.g. treatment.adverseevent."
    )
    source_id = models.CharField(max_length=64, blank=True)
    # An integration summary edited after it was shared is shared again as its next version.
    source_version = models.PositiveSmallIntegerField(default=1)
    urgent = models.BooleanField(default=False, help_text="Each recipient must acknowledge it.")
    for_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="In the patient's thread: the team member the patient wrote to (empty: the whole team).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A record (version) is shared to a thread once: a double click or a retried request does not post it
            # twice.
            models.UniqueConstraint(
                fields=["thread", "source_type", "source_id", "source_version"],
                condition=~Q(source_id=""),
                name="message_record_shared_once",
            ),
        ]
        indexes = [
            models.Index(fields=["thread", "-created_at"], name="message_thread_time"),
            models.Index(fields=["patient", "-created_at"], name="message_patient_time"),
            # The reminders' backstop reads recent urgent messages only.
            models.Index(fields=["created_at"], condition=Q(urgent=True), name="message_urgent_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def is_structured(self):
        return self.kind != self.Kind.TEXT


class MessageRecipient(models.Model):
    """Who a message went to, when they read it and (urgent ones) acknowledged it. Written when it is sent."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="message_recipient_once")]
        indexes = [
            models.Index(
                fields=["user", "patient"], condition=Q(read_at__isnull=True), name="message_recipient_unread"
            ),
        ]

    def __str__(self):
        return f"Message {self.message_id} to {self.user_id}"


class Notification(models.Model):
    """An in-app notification for one user. The title names no patient: the list shows the patient from
    `patient`, and only while the user can still see them (kapcare.access)."""

    class Kind(models.TextChoices):
        # An open set, like SafetyAlert.Kind: other apps may add kinds without a migration.
        MESSAGE = "message", "New message"
        URGENT_MESSAGE = "urgent_message", "Urgent message"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    url = models.CharField(max_length=300, blank=True, help_text="Where it leads; ids only, never patient data.")
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_time"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"

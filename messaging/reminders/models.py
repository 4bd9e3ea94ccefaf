"""Reminders are rows first, Celery second (ARCHITECTURE.md, "Messaging, alerts and reminders").

The planner inserts one row per (kind, object, occasion) and the unique key makes planning idempotent;
the delivery task claims a row, sends it and records the outcome on the row. A row holds ids only, never
patient data (a chaperone's e-mail address is the one exception: they have no account)."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class Reminder(models.Model):
    class Kind(models.TextChoices):
        FOLLOW_UP_SOON = "follow_up_soon", "Follow-up visit due within 7 days"
        FOLLOW_UP_TOMORROW = "follow_up_tomorrow", "Follow-up visit due tomorrow"
        FOLLOW_UP_OVERDUE = "follow_up_overdue", "Follow-up visit overdue"
        FOLLOW_UP_OVERDUE_COORDINATOR = "follow_up_overdue_coord", "Follow-up visit a week overdue (coordinator)"
        DOSING_TOMORROW = "dosing_tomorrow", "Dosing session tomorrow: pre-dosing checklist"
        SAFETY_ALERT_RAISED = "safety_alert_raised", "New safety alert"
        SAFETY_ALERT_UNACKNOWLEDGED = "safety_alert_unack", "Safety alert unacknowledged after 1 hour"
        SAFETY_ALERT_ESCALATED = "safety_alert_escalated", "Safety alert unacknowledged after 4 hours (coordinator)"
        URGENT_MESSAGE_UNACKNOWLEDGED = "urgent_message_unack", "Urgent care-team message unacknowledged after 1 hour"
        URGENT_MESSAGE_ESCALATED = (
            "urgent_message_escalated",
            "Urgent care-team message unacknowledged after 4 hours (coordinator)",
        )
        CONSENT_RESIGN = "consent_resign", "New consent version to sign"
        LICENCE_EXPIRING = "licence_expiring", "Clinician licence expiring within 30 days"
        QUESTIONNAIRE_DUE = "questionnaire_due", "Questionnaire due"
        QUESTIONNAIRE_OVERDUE = "questionnaire_overdue", "Questionnaire overdue"
        SESSION_NOTE_UNSIGNED = "session_note_unsigned", "Session note unsigned after 24 hours"
        SESSION_DOCUMENTATION_MISSING = "session_doc_missing", "Session documentation missing before a follow-up"
        MESSAGE_DIGEST = "message_digest", "Unread messages (daily digest)"
        VISIT_TOMORROW = "visit_tomorrow", "Prescriber visit tomorrow"
        FOLLOW_UP_TO_BOOK = "follow_up_to_book", "Book your follow-up visit"
        REFILL_WINDOW_CLOSING = "refill_window_closing", "Prescription refills end within 14 days (6 months)"
        PDMP_CHECK_DUE = "pdmp_check_due", "PDMP check due before the follow-up"
        STOCK_COUNT_DUE = "stock_count_due", "Controlled-substance count due"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        IN_APP = "in_app", "In the app"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    OPEN = (Status.PENDING, Status.SENDING)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    object_id = models.CharField(max_length=64, help_text="The record the reminder is about (an id).")
    occasion = models.CharField(max_length=120, help_text="Which time it is about, and for whom.")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_email = models.EmailField(blank=True, help_text="Only for a chaperone, who has no account.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, help_text="The delivery attempt holding the row.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When a delivery task was last published.")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "occasion"], name="reminder_once_per_occasion"),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(recipient_email=""), name="reminder_has_recipient"
            ),
        ]
        indexes = [
            # Dispatch and the sweeper read only open rows: their cost follows open work, not history.
            models.Index(fields=["due_at"], condition=Q(status__in=["pending", "sending"]), name="reminder_open_due"),
            models.Index(fields=["patient", "-due_at"], name="reminder_patient_due"),
            models.Index(fields=["status", "-due_at"], name="reminder_status_due"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def message_id(self):
        """The same Message-ID on every attempt, so a mailbox shows a resent reminder once."""
        return f"<reminder-{self.pk}@kapcare.reminders>"


def default_quiet_start():
    return datetime.time(21, 0)


def default_quiet_end():
    return datetime.time(8, 0)


class ReminderPreference(models.Model):
    """The patient's choices: quiet hours (in their time zone) and which non-essential reminders they want."""

    patient = models.OneToOneField("patients.Patient", on_delete=models.CASCADE, related_name="reminder_preference")
    quiet_start = models.TimeField("quiet from", default=default_quiet_start)
    quiet_end = models.TimeField("quiet until", default=default_quiet_end)
    muted_kinds = models.JSONField(default=list, blank=True, help_text="Non-essential kinds the patient turned off.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Reminder preferences of {self.patient_id}"

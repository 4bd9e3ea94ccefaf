"""A session's documentation: the signed progress note and its addenda, the therapist's private
psychotherapy note and the integration summary shared with the prescriber.
"""

import uuid

from django.conf import settings
from django.db import models

from kapcare.signing.models import Addendum, SignedRecord
from treatment.sessions.models import TherapySession


class SessionNoteQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=SessionNote.Status.SIGNED)

    def drafts(self):
        return self.filter(status=SessionNote.Status.DRAFT)


class SessionNote(SignedRecord):
    """The session's progress note, for the care team: drafted, then signed and locked with a content hash.
    A trigger refuses any change to a signed note; corrections are SessionNoteAddendum rows. The signature
    covers the session's records too (treatment.notes.services.signed_content)."""

    LOCKED_MESSAGE = "This progress note is signed and locked: corrections are signed addenda."
    CONTENT_FIELDS = ("body",)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="note")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="session_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField("progress note", blank=True, max_length=20000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionNoteQuerySet.as_manager()

    class Meta(SignedRecord.Meta):
        indexes = [models.Index(fields=["status", "created_at"], name="session_note_status_created")]

    def __str__(self):
        return f"Progress note of {self.session_id} ({self.get_status_display()})"


class SessionNoteAddendum(models.Model):
    """A signed correction or addition to a signed progress note; the original stays as it was. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="addenda")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=10000)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name_plural = "session note addenda"

    def __str__(self):
        return f"Addendum to {self.note_id}"


class PsychotherapyNote(models.Model):
    """A therapist's private process note on a session. Only its author can ever read it: not the
    prescriber, the coordinator, the patient, an administrator or another therapist (HIPAA psychotherapy
    notes, kept apart from the progress note). treatment.notes.selectors.visible_psychotherapy_notes is its
    only door."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=20000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "author"], name="psychotherapy_note_one_per_author")]

    def __str__(self):
        return f"Psychotherapy note {self.pk}"


class IntegrationSummary(SignedRecord):
    """The structured summary of an integration session, for the prescriber: drafted, then signed and locked
    (on its own, or with the session's progress note, whose signature covers it). Corrections are signed
    addenda. Messaging's "share to the team" action reads it into the care-team thread."""

    LOCKED_MESSAGE = "This integration summary is signed and locked: corrections are signed addenda."
    CONTENT_FIELDS = ("themes", "insights", "changes", "concerns_for_prescriber")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="integration_summary")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="integration_summaries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    themes = models.TextField("themes", blank=True, max_length=5000)
    insights = models.TextField("insights", blank=True, max_length=5000)
    changes = models.TextField("changes the patient is working on", blank=True, max_length=5000)
    concerns_for_prescriber = models.TextField("concerns for the prescriber", blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(SignedRecord.Meta):
        verbose_name_plural = "integration summaries"

    def __str__(self):
        return f"Integration summary of {self.session_id} ({self.get_status_display()})"

    def signed_content(self) -> dict:
        content = {name: getattr(self, name) for name in self.CONTENT_FIELDS}
        return {**content, "session": str(self.session_id), "patient": str(self.patient_id), "author": self.author_id}


class IntegrationSummaryAddendum(Addendum):
    """A signed correction or addition to a signed integration summary; the summary stays as it was signed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    summary = models.ForeignKey(IntegrationSummary, on_delete=models.PROTECT, related_name="addenda")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=10000)

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name_plural = "integration summary addenda"

    def __str__(self):
        return f"Addendum to {self.summary_id}"

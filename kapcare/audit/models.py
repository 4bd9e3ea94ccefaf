from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One read or write of patient data, or one refused attempt. Append-only: the database refuses
    UPDATE and DELETE (see the migration). Narrow on purpose: ids, never copies of the data."""

    class Action(models.TextChoices):
        READ = "read", "Read"
        LIST = "list", "Listed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    actor_role = models.CharField(max_length=20, blank=True)
    actor_name = models.CharField(max_length=300, blank=True, help_text="The actor's name at the time of the event.")
    patient = models.ForeignKey(
        "patients.Patient", null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    fields = models.CharField(max_length=300, blank=True, help_text="Names (never values) of the fields changed.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)
    request_id = models.CharField(max_length=32)
    client_ip = models.GenericIPAddressField(null=True)
    # Names of the fields a change touched; for account fields that are not patient data (role, organization,
    # staff flags) also their values before and after. Never a patient's values.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_role} {self.action} {self.object_type} {self.outcome}"

    @property
    def actor_label(self):
        """Who, as they were named when it happened."""
        if self.actor_name:
            return self.actor_name
        if self.actor_id is None:
            return "Not signed in"
        return self.actor.get_full_name() or self.actor.email  # rows written before names were kept

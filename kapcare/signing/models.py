import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from .mode import signing_active


def content_sha256(values: dict) -> str:
    """SHA-256 of a record's signed content, in a stable text form (sorted keys, strings for numbers)."""
    text = json.dumps(values, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SignedRecord(models.Model):
    """A record that is a draft until signed, and never changes or disappears afterwards.

    The model guard below is the first line (a clear message); the database refuses too (SignedRecordTriggers),
    so the admin, a shell and raw SQL are held to it. A row becomes signed only inside `signing()`, which only
    kapcare.signing.services.record_sign opens. A subclass may allow one later transition of a signed row
    (`TRANSITION`, e.g. a dose plan signed -> superseded) that leaves the signed content untouched."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    LOCKED_MESSAGE = "This record is signed and locked: corrections are signed addenda."
    # (from status, to status, the columns that may change with it) or None.
    TRANSITION = None

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    content_hash = models.CharField("SHA-256 of the signed content", max_length=64, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(signed_at__isnull=False) & ~Q(content_hash="") & Q(signed_by__isnull=False)),
                name="%(app_label)s_%(class)s_signed_complete",
            )
        ]

    def save(self, *args, **kwargs):
        stored = None if self._state.adding else self._stored_status()
        if stored not in (None, self.Status.DRAFT) and not self._transition_allowed(stored):
            raise ValidationError(self.LOCKED_MESSAGE)
        if self.status != self.Status.DRAFT and stored in (None, self.Status.DRAFT) and not signing_active():
            raise ValidationError("A record is signed only through its sign service.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() not in (None, self.Status.DRAFT):
            raise ValidationError(self.LOCKED_MESSAGE)
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self):
        return self.status != self.Status.DRAFT

    def signed_content(self) -> dict:
        """What the signature covers (hashed into `content_hash`)."""
        raise NotImplementedError

    def compute_hash(self) -> str:
        return content_sha256(self.signed_content())

    def _transition_allowed(self, stored_status):
        """The one allowed change of a signed row: through the signing door, the signed content untouched."""
        if not (self.TRANSITION and signing_active() and (stored_status, self.status) == self.TRANSITION[:2]):
            return False
        free = {"status", *self.TRANSITION[2]}
        names = [field.attname for field in self._meta.concrete_fields if field.column not in free]
        stored = type(self).objects.filter(pk=self.pk).values(*names).first()
        return all(stored[name] == getattr(self, name) for name in names)

    def _stored_status(self):
        return type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()


class Addendum(models.Model):
    """A signed correction or addition to a signed record: written once, never changed (append-only in the
    database too). The concrete model adds the foreign key to its record, the author and the text."""

    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("An addendum never changes: write another one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("An addendum is never deleted.")

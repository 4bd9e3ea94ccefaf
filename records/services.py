"""Writes for records that leave: asking for an export, building it (Celery), downloading it, purging it."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.celery import enqueue_on_commit
from kapcare.rules import RuleRefused

from . import render, selectors
from .models import RecordExport, token_sha256

CONTENT_TYPES = {
    RecordExport.Format.HTML: "text/html; charset=utf-8",
    RecordExport.Format.PDF: "application/pdf",
    RecordExport.Format.JSON: "application/json",
}


class ExportGone(Exception):
    """The download link has expired (410): the files are deleted, a new copy must be asked for."""


def _clean(text, *, field, limit, required_message):
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: required_message})
    if len(text) > limit:
        raise ValidationError({field: f"Keep it under {limit} characters."})
    return text


@transaction.atomic
def record_export_request(*, actor, patient, recipient: str = "", release_purpose: str = "") -> tuple:
    """Ask for a copy of the record; returns (export, token). The token is shown once, in the link, and stored
    hashed. The patient gets their own copy; a clinician on the team prepares a release of information, which
    names its recipient and purpose and needs the patient's signed release-of-information consent."""
    access.require(actor, Permission.EXPORT_RECORD, patient)
    if selectors.export_in_progress(actor, patient):
        raise RuleRefused(
            "A copy of this record is already being prepared: wait for it to finish before asking for another.",
            code="export_in_progress",
        )
    export = RecordExport(patient=patient, requested_by=actor)
    if actor.is_patient:
        export.purpose = RecordExport.Purpose.PATIENT_ACCESS
    else:
        access.require(actor, Permission.RELEASE_RECORD, patient)
        export.purpose = RecordExport.Purpose.RELEASE
        export.recipient = _clean(
            recipient, field="recipient", limit=300, required_message="Name who receives the record."
        )
        export.release_purpose = _clean(
            release_purpose, field="release_purpose", limit=300, required_message="Say why the record is released."
        )
        export.authorization = selectors.release_authorization(patient)
        if export.authorization is None:
            raise RuleRefused(
                "A release of information needs the patient's signed release-of-information consent "
                "(its current version). Ask the patient to sign it in their portal first.",
                code="release_needs_signed_consent",
            )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    export.token_hash = token_sha256(token)
    export.created_at = now
    export.expires_at = now + RecordExport.VALID_FOR
    export.save()
    audit_record(actor, AuditEvent.Action.CREATE, export)
    enqueue_on_commit("records.tasks.build_record_export", str(export.pk))
    return export, token


def _claim(export_id):
    """queued -> running, once: a task delivered twice builds the export once."""
    claimed = RecordExport.objects.filter(pk=export_id, status=RecordExport.Status.QUEUED).update(
        status=RecordExport.Status.RUNNING, progress=5
    )
    return RecordExport.objects.select_related("patient", "requested_by").get(pk=export_id) if claimed else None


def _progress(export, percent):
    RecordExport.objects.filter(pk=export.pk).update(progress=percent)


def record_export_build(*, export_id) -> RecordExport | None:
    """Build the JSON, HTML and PDF of an export (the Celery task's work). Re-checks that the requester may still
    see the patient: a clinician who left the team since asking gets nothing."""
    export = _claim(export_id)
    if export is None:
        return None
    if not selectors.visible_exports(export.requested_by).filter(pk=export.pk).exists():
        RecordExport.objects.filter(pk=export.pk).update(status=RecordExport.Status.FAILED, progress=100)
        return None
    try:
        contents = selectors.record_contents(export.patient)
        _progress(export, 30)
        document = render.document_json(contents, export)
        html = render.document_html(contents, export)
        _progress(export, 60)
        pdf = render.document_pdf(html)
    except Exception:
        RecordExport.objects.filter(pk=export.pk).update(status=RecordExport.Status.FAILED, progress=100)
        raise
    with transaction.atomic():
        RecordExport.objects.filter(pk=export.pk).update(
            json=document,
            html=html,
            pdf=pdf,
            status=RecordExport.Status.READY,
            progress=100,
            finished_at=timezone.now(),
        )
        audit_record(None, AuditEvent.Action.READ, export)  # the system read the record to build it
    export.refresh_from_db()
    return export


def record_export_purge(*, export) -> None:
    """Delete an expired export's files; the row stays as the record of what left and when."""
    RecordExport.objects.filter(pk=export.pk, purged_at__isnull=True).update(
        html="", json=None, pdf=None, purged_at=timezone.now()
    )


def record_exports_purge_expired(*, now=None) -> int:
    now = now or timezone.now()
    return RecordExport.objects.filter(expires_at__lte=now, purged_at__isnull=True).update(
        html="", json=None, pdf=None, purged_at=now
    )


def record_export_download(*, actor, export, fmt) -> tuple[bytes, str, str]:
    """The file of one format: (content, content type, file name). Every download is audited. An expired link
    is gone (ExportGone, purging the files); one still being built is refused by rule."""
    if fmt not in RecordExport.Format.values:
        raise ValidationError({"format": "Choose html, pdf or json."})
    if export.is_expired():
        audit_record(actor, AuditEvent.Action.READ, export, denied=True)
        record_export_purge(export=export)
        raise ExportGone("This download link has expired.")
    if not export.is_ready:
        raise RuleRefused("This copy of the record is not ready yet.", code="export_not_ready")
    audit_record(actor, AuditEvent.Action.READ, export)  # outside a transaction: the row stays whatever follows
    stem = f"kapcare-record-{export.created_at:%Y%m%d}"
    if fmt == RecordExport.Format.JSON:
        content = render.json_bytes(export.json)
    elif fmt == RecordExport.Format.PDF:
        content = bytes(export.pdf)
    else:
        content = export.html.encode("utf-8")
    return content, CONTENT_TYPES[fmt], f"{stem}.{fmt}"

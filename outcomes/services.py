"""Writes of the outcomes app: asking for a research export, building it (Celery), downloading it, purging it."""

import secrets

from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record, audit_record_many
from kapcare.celery import enqueue_on_commit
from kapcare.rules import RuleRefused
from kapcare.services import service
from patients.models import Patient

from . import filters as outcome_filters
from . import research, selectors
from .models import ResearchExport


class ExportGone(Exception):
    """The download link has expired (410): the files are deleted, a new export must be asked for."""


def _refuse(actor, message, code):
    audit_denied(actor, AuditEvent.Action.CREATE, object_type="outcomes.researchexport", object_id="")
    raise RuleRefused(message, code=code)


def _export_allowed(*, actor, filters):
    """The rules an export request must pass, refused (409) and audited outside the transaction."""
    if ResearchExport.objects.filter(
        requested_by=actor, status__in=[ResearchExport.Status.QUEUED, ResearchExport.Status.RUNNING]
    ).exists():
        _refuse(
            actor,
            "A research export is already being prepared: wait for it to finish before asking for another.",
            "export_in_progress",
        )
    patients = selectors.cohort_courses(actor, filters).values("patient_id").distinct().count()
    if patients < ResearchExport.MIN_CELL:
        _refuse(
            actor,
            f"These filters select {'no' if not patients else 'fewer than 11'} patients: a research export needs at "
            "least 11, so that no patient can be singled out. Widen the filters.",
            "export_too_few_patients",
        )


@service(Permission.EXPORT_RESEARCH, object_type="outcomes.researchexport", before=_export_allowed)
def research_export_request(*, actor, filters) -> tuple:
    """Ask for the de-identified export of the cohort these filters select; returns (export, token). The token is
    shown once, in the link, and stored hashed. Refused while one is being prepared, and for a cohort of fewer than
    11 patients (nothing could be released)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    export = ResearchExport.objects.create(
        requested_by=actor,
        filters=filters.as_query(),
        token_hash=selectors.token_hash(token),
        created_at=now,
        expires_at=now + ResearchExport.VALID_FOR,
    )
    audit_record(actor, AuditEvent.Action.CREATE, export)
    enqueue_on_commit("outcomes.tasks.build_research_export", str(export.pk))
    return export, token


def _claim(export_id):
    """queued -> running, once: a task delivered twice builds the export once."""
    claimed = ResearchExport.objects.filter(pk=export_id, status=ResearchExport.Status.QUEUED).update(
        status=ResearchExport.Status.RUNNING, progress=5
    )
    return ResearchExport.objects.select_related("requested_by").get(pk=export_id) if claimed else None


def _fail(export):
    ResearchExport.objects.filter(pk=export.pk).update(status=ResearchExport.Status.FAILED, progress=100)


def research_export_build(*, export_id) -> ResearchExport | None:
    """Build the CSV and its dictionary (the Celery task's work), for the cohort the requester may see now: the
    filters are re-read against their current access, so one who lost it gets nothing. Each patient included gets
    one audit row (the system read their record for research), in one insert."""
    export = _claim(export_id)
    if export is None:
        return None
    user = export.requested_by
    filters, errors = outcome_filters.parse(user, export.filters)
    if errors or not user.is_active or not access.can(user, Permission.EXPORT_RESEARCH):
        _fail(export)
        return None

    def progress(percent):
        ResearchExport.objects.filter(pk=export.pk).update(progress=percent)

    try:
        with selectors.without_jit():
            rows, patient_ids = research.dataset(selectors.cohort_courses(user, filters), progress)
            ResearchExport.objects.filter(pk=export.pk).update(
                data_csv=research.to_csv(rows, research.COLUMNS),
                dictionary_csv=research.dictionary_csv(),
                patient_count=len(patient_ids),
                row_count=len(rows),
                status=ResearchExport.Status.READY,
                progress=100,
                finished_at=timezone.now(),
            )
            audit_record_many(None, AuditEvent.Action.READ, [Patient(pk=pid) for pid in patient_ids])
    except Exception:
        _fail(export)
        raise
    export.refresh_from_db()
    return export


def research_export_purge(*, export) -> None:
    ResearchExport.objects.filter(pk=export.pk, purged_at__isnull=True).update(
        data_csv="", dictionary_csv="", purged_at=timezone.now()
    )


def research_exports_purge_expired(*, now=None) -> int:
    now = now or timezone.now()
    return ResearchExport.objects.filter(expires_at__lte=now, purged_at__isnull=True).update(
        data_csv="", dictionary_csv="", purged_at=now
    )


def research_export_download(*, actor, export, file) -> tuple[bytes, str]:
    """(content, file name) of the data or the dictionary. Every download is audited; an expired link is gone
    (ExportGone, purging the files); one still being built is refused by rule."""
    if export.is_expired():
        audit_record(actor, AuditEvent.Action.READ, export, denied=True)
        research_export_purge(export=export)
        raise ExportGone("This download link has expired.")
    if not export.is_ready:
        raise RuleRefused("This research export is not ready yet.", code="export_not_ready")
    audit_record(actor, AuditEvent.Action.READ, export)
    content = export.data_csv if file == ResearchExport.File.DATA else export.dictionary_csv
    name = f"kapcare-research-{export.created_at:%Y%m%d}-{file}.csv"
    return content.encode("utf-8"), name

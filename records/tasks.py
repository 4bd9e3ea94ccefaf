"""Thin Celery tasks: ids in, the work is in records.services."""

from celery import shared_task

from . import services


@shared_task(name="records.tasks.build_record_export")
def build_record_export(export_id):
    export = services.record_export_build(export_id=export_id)
    return None if export is None else export.status


@shared_task(name="records.tasks.purge_expired_record_exports")
def purge_expired_record_exports():
    return services.record_exports_purge_expired()

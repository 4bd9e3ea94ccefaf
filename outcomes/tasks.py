"""Thin Celery tasks: ids in, the work is in outcomes.services."""

from celery import shared_task

from . import services


@shared_task(name="outcomes.tasks.build_research_export")
def build_research_export(export_id):
    export = services.research_export_build(export_id=export_id)
    return None if export is None else export.status


@shared_task(name="outcomes.tasks.purge_expired_research_exports")
def purge_expired_research_exports():
    return services.research_exports_purge_expired()

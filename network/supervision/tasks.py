"""Supervision's Celery tasks (ids only as arguments)."""

from celery import shared_task

from . import services
from .selectors import RECORD_MODELS


@shared_task(name="network.supervision.tasks.select_for_supervision")
def select_for_supervision(kind, record_id):
    """Consider one signed record (a service that signs may enqueue this by name)."""
    record = RECORD_MODELS[kind].objects.filter(pk=record_id).first()
    if record is not None:
        services.supervision_select(actor=None, kind=kind, record=record)


@shared_task(name="network.supervision.tasks.reconcile_supervision")
def reconcile_supervision():
    """Beat: every recently signed record not yet considered."""
    return services.supervision_reconcile()


@shared_task(name="network.supervision.tasks.remind_overdue_supervision")
def remind_overdue_supervision():
    """Beat: overdue reviews remind the supervisor, then the coordinators."""
    return services.supervision_remind_overdue()

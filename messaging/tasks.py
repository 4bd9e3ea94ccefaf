"""Thin Celery tasks: ids in, the work is in messaging.reminders.outbox. Every task may run twice or
concurrently (acks_late, two beats): each is safe to repeat."""

from celery import shared_task
from django.db import transaction

from messaging.reminders import kinds, outbox


@shared_task(name="messaging.tasks.plan_reminders")
def plan_reminders():
    """Insert the reminders now due (idempotent), then publish their deliveries."""
    with transaction.atomic():
        proposed = outbox.plan()
    dispatched = outbox.dispatch_due()
    return {"proposed": proposed, "dispatched": len(dispatched)}


@shared_task(name="messaging.tasks.deliver_reminder")
def deliver_reminder(reminder_id):
    return outbox.deliver(int(reminder_id))


@shared_task(name="messaging.tasks.sweep_reminders")
def sweep_reminders():
    return outbox.sweep()


@shared_task(name="messaging.tasks.notify_safety_alert")
def notify_safety_alert(alert_id):
    """Enqueued by patients.services.safety_alert_raise after commit: plan the alert's notices, its
    1-hour reminders and its 4-hour escalation as rows, and send the notices now."""
    from patients.models import SafetyAlert

    alerts = kinds.alerts_for_planning(SafetyAlert.objects.filter(pk=alert_id))
    with transaction.atomic():
        outbox.insert(kinds.safety_alert_rows(alerts))
    return len(outbox.dispatch_due())


@shared_task(name="messaging.tasks.notify_urgent_message")
def notify_urgent_message(message_id):
    """Enqueued by messaging.services when an urgent care-team message is sent: plan its 1-hour reminders and
    its 4-hour escalation as rows (idempotent)."""
    from messaging.models import Message

    messages = kinds.urgent_messages_for_planning(Message.objects.filter(pk=message_id))
    with transaction.atomic():
        outbox.insert(kinds.urgent_message_rows(messages))

import os

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.dev")

app = Celery("kapcare")
app.config_from_object("django.conf:settings", namespace="CELERY")


def enqueue(task_name, *ids):
    """Queue the task registered under `task_name` with these ids. Services and the outbox enqueue by name (each
    app's ready() registers its tasks), so a tasks module imports the services it calls and is never imported
    back: no import circle between them."""
    app.tasks[task_name].delay(*ids)


def enqueue_on_commit(task_name, *ids):
    """enqueue() once the current transaction commits."""
    transaction.on_commit(lambda: enqueue(task_name, *ids))


app.autodiscover_tasks(
    [
        "kapcare.accounts",
        "kapcare.audit",
        "patients",
        "assessments",
        "treatment",
        "messaging",
        "records",
        "network.supervision",
    ]
)


def every(seconds, task):
    """`task` every `seconds`. A run still queued when the next one is due expires (the worker drops it): beat
    keeps publishing while the workers are down or busy, and they should not then run the same job back to back
    once per tick they missed."""
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


# The beat schedule lives here, in code, each entry with its reason.
app.conf.beat_schedule = {
    # Expired API tokens are refused on use anyway; this keeps the table to live tokens.
    "purge-expired-api-tokens": every(3600.0, "kapcare.accounts.tasks.purge_expired_api_tokens"),
    # Reminders are rows first: planning inserts what is due (ON CONFLICT DO NOTHING, so a second beat or
    # a rerun changes nothing) and publishes the due rows. Every 5 minutes keeps "1 hour after an alert"
    # within minutes while the planners read only due work.
    "plan-reminders": every(
        float(os.environ.get("KAPCARE_REMINDER_PLAN_SECONDS", 300)), "messaging.tasks.plan_reminders"
    ),
    # The safety net: rows a dead worker left `sending` go back to pending, and due rows whose task was
    # lost (Redis restarted, a message dropped) are published again. Every minute bounds that delay.
    "sweep-reminders": every(
        float(os.environ.get("KAPCARE_REMINDER_SWEEP_SECONDS", 60)), "messaging.tasks.sweep_reminders"
    ),
    # Dashboards read the stored due work; services keep it in step with their writes, and this recomputes
    # it from the rules for what only time changes (a questionnaire opening, a follow-up past its grace).
    "reconcile-due-work": every(
        float(os.environ.get("KAPCARE_DUE_WORK_RECONCILE_SECONDS", 900)), "patients.tasks.reconcile_due_work"
    ),
    # A clinician whose licence, DEA registration or approval lapsed takes no new work (the gates refuse it); their
    # patients go on the coordinators' assignment queue for handover. Hourly: a lapse shows the day it happens.
    "flag-lapsed-credentials": every(3600.0, "patients.tasks.flag_lapsed_credentials"),
    # A copy of a record that left is kept only while its link works (24 hours); then its files are deleted.
    "purge-expired-record-exports": every(3600.0, "records.tasks.purge_expired_record_exports"),
    "purge-expired-research-exports": every(3600.0, "outcomes.tasks.purge_expired_research_exports"),
    # Supervision picks signed records by policy: each sign service enqueues the record's selection on commit (by
    # task name: the apps that sign cannot import the network). This reconciler considers, each once, any record
    # of the last week whose message was lost (a dead broker, a worker killed mid-task).
    "reconcile-supervision": every(600.0, "network.supervision.tasks.reconcile_supervision"),
    # Overdue supervision reviews remind the supervisor, then (a week on) the coordinators; each once.
    "remind-overdue-supervision": every(3600.0, "network.supervision.tasks.remind_overdue_supervision"),
}

"""Beat's schedule (kapcare/celery.py): a periodic task that waited in the queue past its next run is dropped
(`expires`), so a worker back after an outage runs each job once, not once per missed tick."""

import pytest

from kapcare.celery import app

SCHEDULE = app.conf.beat_schedule


@pytest.mark.parametrize("name", sorted(SCHEDULE))
def test_every_entry_expires_before_its_next_run(name):
    entry = SCHEDULE[name]
    expires = entry.get("options", {}).get("expires")

    assert expires is not None, f"{name} has no expires"
    assert 0 < expires <= entry["schedule"]


def test_the_schedule_has_the_jobs_the_reminders_and_tokens_need():
    tasks = {entry["task"] for entry in SCHEDULE.values()}

    assert {
        "kapcare.accounts.tasks.purge_expired_api_tokens",
        "messaging.tasks.plan_reminders",
        "messaging.tasks.sweep_reminders",
    } <= tasks

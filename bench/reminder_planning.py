"""Reminder planning time at two data sizes with the same number of due reminders (issue 8, `make bench`).

Planning must touch only due work: its time at 100,000 patients should be within 1.5x of its time at 10,000.
This is the hook `make bench` calls, once per database: it prints a line for bench/results.md with the
planning time and the number of reminders due. scripts/bench.sh seeds every size with
`seed_load --due-follow-ups N` (BENCH_DUE_FOLLOW_UPS), which keeps the due work to N follow-ups at any size.

    DJANGO_SETTINGS_MODULE=kapcare.settings.bench python -m bench.reminder_planning > fragment.md
"""

import importlib
import os
import sys
import time

import django

# The planning entry point, "module:function", called with `now`; it inserts every due reminder and returns how
# many rows its planners proposed (messaging.reminders.outbox.plan).
PLANNER = os.environ.get("BENCH_REMINDER_PLANNER", "messaging.reminders.outbox:plan")
RUNS = 3


def planner():
    module_name, _, function = PLANNER.partition(":")
    try:
        return getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError):
        return None


def time_planning(plan):
    """Best of RUNS, each in a transaction rolled back, so every run plans the same due work from scratch."""
    from django.db import transaction
    from django.utils import timezone

    best, proposed = None, 0
    for _ in range(RUNS):
        with transaction.atomic():
            started = time.perf_counter()
            proposed = plan(timezone.now())
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        best = elapsed if best is None else min(best, elapsed)
    return best, proposed


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.bench")
    django.setup()
    from demo.management.commands.seed_load import MEDICAL_GROUP
    from patients.models import Patient

    plan = planner()
    if plan is None:
        print(f"Reminder planning: not measured. No planner at `{PLANNER}` (the reminders app).")
        return
    patients = Patient.objects.filter(medical_group__name=MEDICAL_GROUP).count()
    seconds, proposed = time_planning(plan)
    print(
        f"Reminder planning (`{PLANNER}`, best of {RUNS}, rolled back): {patients:,} patients, "
        f"{proposed:,} reminders due, {seconds * 1000:.0f} ms."
    )


if __name__ == "__main__":
    sys.exit(main())

"""The reminder drills' worker and beat processes (tests/test_reminder_drills.py, `make drill`): the test
settings with a real broker, e-mail into a file the drill counts, and short timings. Only the drills use it."""

import os

from .test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = os.environ["DRILL_BROKER_URL"]
EMAIL_BACKEND = "messaging.reminders.drill.DrillMailBackend"
DRILL_SINK = os.environ["DRILL_SINK"]
DRILL_SEND_SECONDS = float(os.environ.get("DRILL_SEND_SECONDS", "0"))
# Short enough for a drill to finish in seconds; the order of the production values is kept:
# task hard limit < sending timeout, and the broker's visibility timeout above the longest task.
CELERY_TASK_TIME_LIMIT = 4
CELERY_TASK_SOFT_TIME_LIMIT = 3
REMINDER_SENDING_TIMEOUT = 6
REMINDER_REDISPATCH_AFTER = 3
REMINDER_RETRY_BASE = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 8}

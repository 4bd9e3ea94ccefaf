import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.dev")

app = Celery("kapcare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["kapcare.accounts", "kapcare.audit", "patients", "assessments", "treatment", "messaging"])

# The beat schedule lives here, in code, each entry with its reason.
app.conf.beat_schedule = {
    # Expired API tokens are refused on use anyway; this keeps the table to live tokens.
    "purge-expired-api-tokens": {
        "task": "kapcare.accounts.tasks.purge_expired_api_tokens",
        "schedule": 3600.0,
    },
}

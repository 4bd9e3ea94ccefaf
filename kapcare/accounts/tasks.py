from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone
from knox.models import AuthToken

from . import services


@shared_task
def purge_expired_api_tokens():
    deleted, _ = AuthToken.objects.filter(expiry__lt=timezone.now()).delete()
    return deleted


@shared_task(
    name="kapcare.accounts.tasks.email_clinician_welcome",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=6,
)
def email_clinician_welcome(user_id):
    """Ids in, one service call: the link is made at sending time, never carried in the task."""
    services.clinician_welcome_email(user_id=user_id)

from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(
    name="patients.tasks.email_invitation",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=6,
)
def email_invitation(invitation_id):
    """Ids in, one service call. A link used or replaced meanwhile is not sent."""
    services.invitation_email(invitation_id=invitation_id)

from smtplib import SMTPException

from celery import shared_task

from . import due_work, services


@shared_task(
    name="patients.tasks.email_invitation",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=6,
)
def email_invitation(invitation_id):
    """Ids in, one service call. A link used or replaced meanwhile is not sent."""
    services.invitation_email(invitation_id=invitation_id)


@shared_task(
    name="patients.tasks.email_previous_address",
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=6,
)
def email_previous_address(change_id):
    """Ids in: the change's id, never the address."""
    services.email_change_notify(change_id=change_id)


@shared_task(name="patients.tasks.reconcile_due_work")
def reconcile_due_work():
    """Stored due work follows the clock too (a questionnaire's window opens, a visit passes its grace), and
    writes that went around the services: recompute it from the rules."""
    return due_work.reconcile()


@shared_task(name="patients.tasks.flag_lapsed_credentials")
def flag_lapsed_credentials():
    """The patients of clinicians whose credentials lapsed go on the coordinators' assignment queue."""
    return services.assignment_needs_flag_lapsed()

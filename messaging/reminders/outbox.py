"""Planning, dispatch, delivery and the sweeper. The database row is the truth; a Celery message only
wakes a worker up, so a lost message (Redis restarted, worker killed) costs a delay, never a reminder.

- plan(now): INSERT ... ON CONFLICT DO NOTHING of what every planner says is due. Twice = once.
- dispatch_due(now): publish a delivery task for each due pending row not published recently
  (SKIP LOCKED, so two beats or sweepers publish each row once), after commit.
- deliver(id): claim the row with a conditional UPDATE (pending -> sending, with a fresh claim token and
  attempts + 1) and commit, check it still holds, send, record the outcome against the claim token.
  The task is acknowledged only after that (acks_late), so a worker killed mid-send leaves the message
  to be redelivered and the row in `sending`: a redelivered message finds nothing to claim.
- sweep(now): rows left in `sending` longer than REMINDER_SENDING_TIMEOUT (above the task hard time
  limit, so never a live send) go back to pending and are dispatched again.

Exactly once: the one unavoidable window is a crash after the mail server accepted the message and
before the row says so; the row is then resent with the same Message-ID, which mailboxes show once.
"""

import datetime
import logging
import smtplib
import socket
import uuid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from kapcare.celery import enqueue

from . import kinds
from .models import Reminder, ReminderPreference
from .timing import outside_quiet_hours

logger = logging.getLogger(__name__)
Status = Reminder.Status

DISPATCH_BATCH = 500


def _setting(name, default):
    return getattr(settings, name, default)


def sending_timeout():
    return datetime.timedelta(seconds=_setting("REMINDER_SENDING_TIMEOUT", 600))


def redispatch_after():
    return datetime.timedelta(seconds=_setting("REMINDER_REDISPATCH_AFTER", 300))


def max_attempts():
    return _setting("REMINDER_MAX_ATTEMPTS", 5)


def retry_delay(attempts):
    """Backoff after the n-th failed attempt: base, 4 x base, 16 x base ... at most an hour."""
    base = _setting("REMINDER_RETRY_BASE", 60)
    return datetime.timedelta(seconds=min(base * 4 ** (attempts - 1), 3600))


# Planning and dispatch -------------------------------------------------------------------------


def plan(now=None):
    """Insert every due reminder that is not there yet; returns how many rows the planners proposed."""
    now = now or timezone.now()
    proposed = 0
    for planner in kinds.PLANNERS:
        # In key order, so two planners at once take their row locks in the same order (no deadlock).
        rows = sorted(planner(now), key=lambda r: (r.kind, r.object_id, r.occasion))
        proposed += len(rows)
        # ON CONFLICT DO NOTHING on the (kind, object, occasion) key: planning twice, or two planners at
        # once, insert each reminder once.
        Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return proposed


def insert(rows):
    rows = sorted(rows, key=lambda r: (r.kind, r.object_id, r.occasion))
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)


def dispatch_due(now=None, limit=DISPATCH_BATCH):
    """Publish a delivery task for each due pending row (once per REMINDER_REDISPATCH_AFTER), after commit."""
    now = now or timezone.now()
    stale = now - redispatch_after()
    with transaction.atomic():
        due = (
            Reminder.objects.filter(status=Status.PENDING, due_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(due)
        if ids:
            Reminder.objects.filter(pk__in=ids).update(enqueued_at=now)
            transaction.on_commit(lambda: _publish(ids))
    return ids


def _publish(ids):
    for reminder_id in ids:
        enqueue("messaging.tasks.deliver_reminder", reminder_id)


# Delivery --------------------------------------------------------------------------------------


class PermanentFailure(Exception):
    """Sending cannot succeed by trying again (no address, refused recipient)."""


TRANSIENT_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
    OSError,
)


def claim(reminder_id, now):
    """pending -> sending for one attempt; None when another attempt holds it or it is not due."""
    token = uuid.uuid4()
    with transaction.atomic():
        claimed = Reminder.objects.filter(pk=reminder_id, status=Status.PENDING, due_at__lte=now).update(
            status=Status.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
        )
    return token if claimed else None


def _record(reminder_id, token, **fields):
    with transaction.atomic():
        recorded = Reminder.objects.filter(pk=reminder_id, status=Status.SENDING, claim_token=token).update(**fields)
    if not recorded:
        logger.warning("Reminder %s: the outcome of attempt %s came after the row was taken back.", reminder_id, token)
    return recorded


def deliver(reminder_id, now=None):
    """Claim, check, send and record one reminder. Returns the status it ended in (or None if not claimed)."""
    now = now or timezone.now()
    token = claim(reminder_id, now)
    if token is None:
        return None
    reminder = Reminder.objects.select_related("recipient", "patient").get(pk=reminder_id)
    spec = kinds.KINDS[reminder.kind]
    reason = skip_reason(reminder, spec, now)
    if reason:
        _record(reminder_id, token, status=Status.SKIPPED, last_error=reason[:300])
        return Status.SKIPPED
    later = quiet_hours_end(reminder, spec, now)
    if later:
        # Not an attempt: back to pending, due when the patient's quiet hours end.
        _record(reminder_id, token, status=Status.PENDING, due_at=later, attempts=F("attempts") - 1, enqueued_at=None)
        return Status.PENDING
    if spec.on_send is not None:
        spec.on_send(reminder)
    if reminder.channel == Reminder.Channel.IN_APP:
        return _deliver_in_app(reminder, spec, token)
    try:
        send(reminder, spec)
    except PermanentFailure as error:
        _record(reminder_id, token, status=Status.FAILED, last_error=str(error)[:300])
        return Status.FAILED
    except TRANSIENT_ERRORS as error:
        return _retry_or_give_up(reminder, token, error, now)
    except smtplib.SMTPException as error:
        return _retry_or_give_up(reminder, token, error, now)
    _record(reminder_id, token, status=Status.SENT, sent_at=timezone.now(), last_error="")
    return Status.SENT


def _deliver_in_app(reminder, spec, token):
    """The notification and the row's outcome commit together: exactly once, whatever dies when."""
    from messaging import services as messaging_services

    with transaction.atomic():
        if not _record(reminder.pk, token, status=Status.SENT, sent_at=timezone.now(), last_error=""):
            return None
        messaging_services.notification_create(
            recipients=[reminder.recipient],
            kind="reminder",
            title=reminder.get_kind_display(),
            url=spec.link(reminder),
            patient=reminder.patient,
        )
    return Status.SENT


def _retry_or_give_up(reminder, token, error, now):
    attempts = reminder.attempts
    code = getattr(error, "smtp_code", None)
    message = f"{type(error).__name__}" + (f" (SMTP {code})" if code else "")
    if attempts >= max_attempts():
        _record(
            reminder.pk, token, status=Status.FAILED, last_error=f"Gave up after {attempts} attempts. {message}"[:300]
        )
        return Status.FAILED
    _record(
        reminder.pk,
        token,
        status=Status.PENDING,
        last_error=message,
        due_at=now + retry_delay(attempts),
        enqueued_at=None,
    )
    return Status.PENDING


def skip_reason(reminder, spec, now):
    """Why this reminder should no longer go out, or ""."""
    recipient = reminder.recipient
    if recipient is not None and not recipient.is_active:
        return "The recipient's account is deactivated."
    optional = spec.patient_facing and not spec.essential and reminder.patient_id
    if optional and kinds.muted(reminder.patient_id, reminder.kind):
        return "The patient turned this kind of reminder off."
    if recipient is not None and recipient.is_clinician and reminder.patient_id and not _on_team(reminder):
        return "The recipient is no longer on the patient's care team."
    return spec.skip_reason(reminder, now)


def _on_team(reminder):
    from patients.models import CareTeamMember

    return CareTeamMember.objects.active().filter(patient_id=reminder.patient_id, clinician=reminder.recipient).exists()


def quiet_hours_end(reminder, spec, now):
    """For a patient-facing reminder inside the patient's quiet hours: when they end. Otherwise None."""
    to_patient = reminder.recipient is not None and reminder.recipient.is_patient
    if spec.safety or reminder.patient is None or not (spec.patient_facing or to_patient):
        return None
    prefs = ReminderPreference.objects.filter(patient_id=reminder.patient_id).first()
    start, end = (prefs.quiet_start, prefs.quiet_end) if prefs else (None, None)
    later = outside_quiet_hours(now, reminder.patient.time_zone, start, end)
    return later if later > now else None


def send(reminder, spec):
    recipient = reminder.recipient
    address = recipient.email if recipient is not None else reminder.recipient_email
    if not address:
        raise PermanentFailure("The recipient has no e-mail address.")
    context = {
        "first_name": recipient.first_name if recipient is not None else "",
        "link": settings.KAPCARE_BASE_URL.rstrip("/") + spec.link(reminder),
        "what": _what(reminder, spec),
        "checklist": reminder.kind == Reminder.Kind.DOSING_TOMORROW,
        "chaperone": recipient is None,
    }
    subject = "You have a safety alert in KAPCare" if spec.safety else "You have a reminder in KAPCare"
    body = render_to_string("reminders/email/reminder.txt", context)
    message = EmailMessage(subject, body, to=[address], headers={"Message-ID": reminder.message_id})
    try:
        message.send()
    # The errors kept on the row (and shown in the delivery log) name the failure, never the address or
    # the server's reply, which may echo it.
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentFailure("The mail server refused the recipient's address.") from error
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:  # 5xx is final; 4xx is "try again later"
            raise PermanentFailure(f"The mail server refused the message (SMTP {error.smtp_code}).") from error
        raise


def _what(reminder, spec):
    """What the reminder is about, in words with no patient data; staff only (patients get the link)."""
    recipient = reminder.recipient
    if recipient is None or recipient.is_patient:
        return ""
    return reminder.get_kind_display()


# The sweeper ------------------------------------------------------------------------------------


def sweep(now=None):
    """Take back rows stuck in `sending` past the timeout, then dispatch every due pending row."""
    now = now or timezone.now()
    stuck = Reminder.objects.filter(status=Status.SENDING, claimed_at__lt=now - sending_timeout())
    note = "The delivery stopped without an outcome (worker lost); tried again."
    given_up = stuck.filter(attempts__gte=max_attempts()).update(
        status=Status.FAILED, last_error=f"Gave up after {max_attempts()} attempts. {note}"
    )
    requeued = stuck.update(status=Status.PENDING, enqueued_at=None, last_error=note)
    dispatched = dispatch_due(now)
    return {"requeued": requeued, "failed": given_up, "dispatched": len(dispatched)}

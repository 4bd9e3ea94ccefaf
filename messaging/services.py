"""Writes of messages, receipts and notifications. Keyword-only, actor first, atomic, audited.

Public for other apps and the reminders helper: `message_send`, the `message_share_*` actions, `thread_mark_read`,
`message_acknowledge`, `notification_create` (an in-app notification for some users, e.g. an escalated alert)
and `notification_mark_read` / `notifications_mark_all_read`. E-mail is not sent from here: the reminders
outbox plans "You have a new message in KAPCare" from `messaging.selectors.users_with_unread_messages`."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from kapcare import access, caseload_cache
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.celery import enqueue_on_commit
from kapcare.rules import RuleRefused
from kapcare.services import service
from patients.models import CareTeamMember

from .models import Message, MessageRecipient, Notification, Thread
from .selectors import POST_PERMISSION


def thread_for(patient, kind) -> Thread:
    thread, _created = Thread.objects.get_or_create(patient=patient, kind=kind)
    return thread


def thread_url(patient, kind, *, for_patient=False):
    """Ids only: where a notification about a message in this thread leads."""
    if for_patient:
        return reverse("messaging:my-messages")
    name = "messaging:care-team-thread" if kind == Thread.Kind.CARE_TEAM else "messaging:patient-thread"
    return reverse(name, args=[patient.pk])


def _team_clinicians(patient):
    members = CareTeamMember.objects.active().filter(patient=patient).select_related("clinician")
    seen, clinicians = set(), []
    for member in members.order_by("role", "id"):
        if member.clinician_id not in seen:
            seen.add(member.clinician_id)
            clinicians.append(member.clinician)
    return clinicians


def _recipients(*, actor, patient, kind, for_clinician):
    """Who a new message goes to: in the care-team thread the other clinicians on the team; in the patient's
    thread, from the patient the member they chose (or the whole team), from a clinician the patient."""
    team = [clinician for clinician in _team_clinicians(patient) if clinician.pk != actor.pk]
    if kind == Thread.Kind.CARE_TEAM:
        return team
    if actor.is_patient:
        return [for_clinician] if for_clinician is not None else team
    return [patient.user] if patient.user_id else []


def _clean_body(body, *, required=True):
    body = (body or "").strip()
    if required and not body:
        raise ValidationError({"body": "Write a message."})
    if len(body) > Message.MAX_BODY:
        raise ValidationError({"body": f"Keep a message under {Message.MAX_BODY} characters."})
    return body


def _require_may_post(*, actor, patient, thread_kind, **_arguments):
    """The permission to post depends on the thread: name a real one first."""
    if thread_kind not in Thread.Kind.values:
        raise ValidationError({"thread": "Choose the care-team thread or the patient's thread."})
    access.require(actor, POST_PERMISSION[thread_kind], patient)


@service(before=_require_may_post)
def message_send(
    *, actor, patient, body: str, thread_kind=Thread.Kind.CARE_TEAM, urgent=False, for_clinician=None
) -> Message:
    """A text message in one of the patient's threads. `patient` comes from kapcare.access. In the patient's
    thread the patient may address one clinician of their team (`for_clinician`); only the care-team thread
    takes urgent messages, which each recipient must acknowledge."""
    body = _clean_body(body)
    if urgent and thread_kind != Thread.Kind.CARE_TEAM:
        raise ValidationError({"urgent": "Only care-team messages can be marked urgent."})
    if for_clinician is not None:
        if thread_kind != Thread.Kind.PATIENT or not actor.is_patient:
            raise ValidationError({"for_clinician": "Only the patient addresses a message to one team member."})
        if for_clinician.pk not in {clinician.pk for clinician in _team_clinicians(patient)}:
            raise ValidationError({"for_clinician": "Choose someone on your care team."})
    return _post(
        actor=actor,
        patient=patient,
        kind=thread_kind,
        message=Message(kind=Message.Kind.TEXT, body=body, urgent=bool(urgent), for_clinician=for_clinician),
    )


@transaction.atomic
def _post(*, actor, patient, kind, message) -> Message:
    thread = thread_for(patient, kind)
    message.thread = thread
    message.patient = patient
    message.author = actor
    message.created_at = timezone.now()
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError as error:  # the same record shared twice at once
        raise RuleRefused("This record is already shared in the thread.", code="already_shared") from error
    recipients = _recipients(actor=actor, patient=patient, kind=kind, for_clinician=message.for_clinician)
    MessageRecipient.objects.bulk_create(
        [MessageRecipient(message=message, user=user, patient=patient) for user in recipients]
    )
    author = actor.get_full_name() or "Your care team"
    if message.urgent:
        title, notification_kind = f"Urgent message from {author}: please acknowledge", Notification.Kind.URGENT_MESSAGE
    else:
        title, notification_kind = f"New message from {author}", Notification.Kind.MESSAGE
    caseload_cache.changed(users=recipients)  # their badges
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=notification_kind,
                title=title,
                url=f"{thread_url(patient, kind, for_patient=user.is_patient)}#message-{message.pk}",
                patient=patient,
                message=message,
            )
            for user in recipients
        ]
    )
    audit_record(actor, AuditEvent.Action.CREATE, message)
    if message.urgent:  # rows first: its reminders and escalation, planned once the message is committed
        enqueue_on_commit("messaging.tasks.notify_urgent_message", str(message.pk))
    return message


# Sharing a record to the care-team thread --------------------------------------------------------------


def _share(*, actor, patient, kind, source, card, body="", versioned=False) -> Message:
    """Post a card read from `source`. A record is shared once; a `versioned` one (an integration summary) again
    as its next version once it has changed since it was last shared."""
    access.require(actor, Permission.POST_CARE_TEAM_MESSAGE, patient)
    if source.patient_id != patient.pk:
        raise ValidationError("This record is not one of this patient's.")
    label = source._meta.label_lower
    latest = (
        Message.objects.filter(
            thread__patient=patient, thread__kind=Thread.Kind.CARE_TEAM, source_type=label, source_id=str(source.pk)
        )
        .order_by("-source_version")
        .first()
    )
    version = 1
    if latest is not None:
        if not versioned:
            raise RuleRefused("This record is already shared in the care-team thread.", code="already_shared")
        if source.updated_at <= latest.created_at:
            raise RuleRefused(
                "This summary is already shared and has not changed since: edit it to share an update.",
                code="already_shared",
            )
        version = latest.source_version + 1
        card = {**card, "title": f"{card['title']} · updated (version {version})"}
    message = Message(kind=kind, body=_clean_body(body, required=False), card=card, source_type=label)
    message.source_id = str(source.pk)
    message.source_version = version
    return _post(actor=actor, patient=patient, kind=Thread.Kind.CARE_TEAM, message=message)


def _when(value):
    local = timezone.localtime(value)
    return f"{local:%b} {local.day}, {local.year} at {local:%H:%M}"


def message_share_side_effect(*, actor, event, note="") -> Message:
    """Share a side-effect report (treatment.AdverseEvent) with the team as a card. `event` comes from a
    visible_* queryset and the actor may read side effects."""
    access.require(actor, Permission.VIEW_ADVERSE_EVENTS, event)
    rows = [
        ["Side effect", event.get_kind_display()],
        ["Severity", event.get_severity_display()],
        ["Reported", _when(event.reported_at)],
    ]
    if event.onset_minutes is not None:
        rows.append(["Onset", f"{event.onset_minutes} min after the dose"])
    rows.append(["Action taken", event.get_action_taken_display()])
    if event.description:
        rows.append(["What happened", event.description])
    card = {"title": f"Side-effect report: {event.get_kind_display().lower()}", "rows": rows}
    return _share(
        actor=actor, patient=event.patient, kind=Message.Kind.SIDE_EFFECT_REPORT, source=event, card=card, body=note
    )


INTEGRATION_FIELDS = [
    ("themes", "Themes"),
    ("insights", "Insights"),
    ("changes", "Changes"),
    ("concerns_for_prescriber", "For the prescriber"),
]


def message_share_integration_summary(*, actor, summary, note="") -> Message:
    """Share an integration session's summary (treatment.IntegrationSummary) with the prescriber as a card.
    The summary is the therapist's clinical summary for the team, not their private psychotherapy notes.
    Edited after it was shared, it is shared again as its next version; the thread shows the latest."""
    access.require(actor, Permission.VIEW_SESSION_NOTE, summary)
    rows = [[label, str(getattr(summary, name, "") or "")] for name, label in INTEGRATION_FIELDS]
    rows = [row for row in rows if row[1]]
    session = getattr(summary, "session", None)
    title = "Integration summary"
    if session is not None and getattr(session, "scheduled_at", None):
        title += f" · session of {_when(session.scheduled_at)}"
    card = {"title": title, "rows": rows, "session": str(summary.session_id)}
    return _share(
        actor=actor,
        patient=summary.patient,
        kind=Message.Kind.INTEGRATION_SUMMARY,
        source=summary,
        card=card,
        body=note,
        versioned=True,
    )


def message_share_dose_plan(*, actor, plan, note="") -> Message:
    """Share a signed dose plan version (a dose change) with the team as a card."""
    access.require(actor, Permission.VIEW_DOSE_PLAN, plan)
    if not plan.signed_at:
        raise RuleRefused("Only a signed dose plan can be shared.", code="dose_plan_not_signed")
    rows = [
        ["Version", str(plan.version)],
        ["Full dose", f"{plan.full_dose_mg} mg {plan.get_route_display().lower()}"],
        ["Dosing sessions authorized", str(plan.doses_authorized)],
        ["Signed", _when(plan.signed_at)],
    ]
    card = {"title": f"Dose plan version {plan.version}", "rows": rows}
    return _share(actor=actor, patient=plan.patient, kind=Message.Kind.DOSE_CHANGE, source=plan, card=card, body=note)


# Receipts and acknowledgements --------------------------------------------------------------------------


@transaction.atomic
def thread_mark_read(*, actor, patient, kind) -> int:
    """The actor opened the thread: every message in it sent to them is read now, in one UPDATE, and so are
    the notifications about those messages. Returns how many messages were unread."""
    now = timezone.now()
    marked = MessageRecipient.objects.filter(
        user=actor, patient=patient, message__thread__kind=kind, read_at__isnull=True
    ).update(read_at=now)
    if Notification.objects.filter(
        recipient=actor, patient=patient, message__thread__kind=kind, read_at__isnull=True
    ).update(read_at=now):
        caseload_cache.changed(users=[actor])  # their badge
    return marked


def _require_recipient(actor, permission, message):
    """access.require, and the message went to this clinician (403, audited)."""
    access.require(actor, permission, message)
    if not MessageRecipient.objects.filter(message=message, user=actor).exists():
        audit_record(actor, AuditEvent.Action.UPDATE, message, denied=True)
        raise PermissionDenied("This message went to the other clinicians on the care team, not to you.")


@service(Permission.ACKNOWLEDGE_MESSAGE, on="message", check=_require_recipient)
def message_acknowledge(*, actor, message) -> MessageRecipient:
    """An urgent message's recipient says they have seen it and will act. `message` comes from kapcare.access."""
    if not message.urgent:
        raise RuleRefused("Only an urgent message asks to be acknowledged.", code="not_urgent")
    recipient = MessageRecipient.objects.select_for_update().get(message=message, user=actor)
    if recipient.acknowledged_at is not None:
        raise RuleRefused(
            f"You acknowledged this message on {_when(recipient.acknowledged_at)}.", code="already_acknowledged"
        )
    now = timezone.now()
    recipient.acknowledged_at = now
    recipient.read_at = recipient.read_at or now
    recipient.save(update_fields=["acknowledged_at", "read_at"])
    if Notification.objects.filter(recipient=actor, message=message, read_at__isnull=True).update(read_at=now):
        caseload_cache.changed(users=[actor])  # their badge
    audit_record(actor, AuditEvent.Action.UPDATE, message)
    return recipient


# Notifications -------------------------------------------------------------------------------------------


@transaction.atomic
def notification_create(*, recipients, kind: str, title: str, url: str = "", patient=None) -> list[Notification]:
    """In-app notifications for some users, one INSERT. `title` names no patient (the list shows the patient
    from `patient` to those who can still see them); `url` carries ids only. For other apps' events."""
    if len(title) > 200:
        raise ValidationError({"title": "Keep a notification's title under 200 characters."})
    recipients = list(recipients)
    caseload_cache.changed(users=recipients)  # their badges
    return Notification.objects.bulk_create(
        [Notification(recipient=user, kind=kind, title=title, url=url, patient=patient) for user in recipients]
    )


def notification_mark_read(*, actor, notification) -> Notification:
    """`notification` comes from messaging.selectors.visible_notifications(actor): the actor's own."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied("This notification is someone else's.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        caseload_cache.changed(users=[actor])  # their badge
    return notification


def notifications_mark_all_read(*, actor) -> int:
    marked = Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        caseload_cache.changed(users=[actor])  # their badge
    return marked

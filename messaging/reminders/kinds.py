"""Every kind of reminder in one registry: who gets it and when (its planner), whether it still holds at
send time (its check), where its link goes, and whether it is patient-facing or non-essential.

A planner takes `now` and returns unsaved Reminder rows for the work that is due; it must read only due
work (a date window over an indexed column), never walk every patient. Planning inserts the rows with
ON CONFLICT DO NOTHING, so a planner may return the same row on every run."""

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from kapcare.accounts.models import Licence, Organization, User
from patients.models import (
    CLINICIAN_ALERT_ROLES,
    CareTeamMember,
    ConsentDocument,
    ConsentSignature,
    Patient,
    SafetyAlert,
    SafetyAlertRecipient,
    Stage,
)
from treatment.models import FollowUp, TherapySession

from . import hooks
from .models import Reminder, ReminderPreference
from .recipients import team
from .timing import outside_quiet_hours

Kind = Reminder.Kind
DAY = datetime.timedelta(days=1)
CLOSED_STAGES = (Stage.COMPLETED, Stage.DISCONTINUED, Stage.INELIGIBLE)
OVERDUE_LOOKBACK = datetime.timedelta(days=90)  # bounds every "overdue" window to recent work


@dataclass(frozen=True)
class KindSpec:
    kind: str
    link: Callable[[Reminder], str]  # a path with ids only
    skip_reason: Callable[[Reminder, datetime.datetime], str]  # "" while the reminder still holds
    patient_facing: bool = False  # sent in the patient's time zone, outside their quiet hours
    essential: bool = True  # a patient may turn off the non-essential ones
    safety: bool = False  # safety escalations: clinicians get them at any hour
    on_send: Callable[[Reminder], None] | None = None  # what sending it does besides telling (in the send's claim)


KINDS: dict[str, KindSpec] = {}
PLANNERS: list[Callable[[datetime.datetime], list[Reminder]]] = []


def kind(code, *, link, patient_facing=False, essential=True, safety=False, on_send=None):
    """Register the decorated function as the kind's check (returns a skip reason, or "")."""

    def register(check):
        KINDS[code] = KindSpec(code, link, check, patient_facing, essential, safety, on_send)
        return check

    return register


def planner(function):
    PLANNERS.append(function)
    return function


def non_essential_patient_kinds():
    return [spec.kind for spec in KINDS.values() if spec.patient_facing and not spec.essential]


# Building rows ---------------------------------------------------------------------------------


def recipient_key(user_id=None, email=""):
    if user_id:
        return f"user:{user_id}"
    return "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def row(code, object_id, occasion, *, due_at, user_id=None, email="", patient_id=None, channel=Reminder.Channel.EMAIL):
    in_app = "|in_app" if channel == Reminder.Channel.IN_APP else ""
    return Reminder(
        kind=code,
        object_id=str(object_id),
        occasion=f"{occasion}|{recipient_key(user_id, email)}{in_app}",
        recipient_id=user_id,
        recipient_email=email if not user_id else "",
        channel=channel,
        patient_id=patient_id,
        due_at=due_at,
    )


def by_email_and_in_app(code, object_id, occasion, **fields):
    """The same reminder by e-mail and as an in-app notification (the header's badge)."""
    return [row(code, object_id, occasion, **fields, channel=channel) for channel in Reminder.Channel.values]


def occasion_of(reminder):
    """The part of the occasion before the recipient: a date, a time or a version."""
    return reminder.occasion.split("|", 1)[0]


def coordinators(group_ids):
    """{medical group id: [coordinator ids]}. One query."""
    found = defaultdict(list)
    users = User.objects.filter(role=User.Role.COORDINATOR, is_active=True, organization_id__in=set(group_ids))
    for group_id, user_id in users.values_list("organization_id", "pk"):
        found[group_id].append(user_id)
    return found


def patient_timing(patient_ids):
    """{patient id: (time zone, quiet start, quiet end)} for patient-facing times. One query."""
    rows = Patient.objects.filter(pk__in=set(patient_ids)).values_list(
        "pk", "time_zone", "reminder_preference__quiet_start", "reminder_preference__quiet_end"
    )
    return {pk: (tz, start, end) for pk, tz, start, end in rows}


def patient_due(at, timing):
    time_zone, start, end = timing
    return outside_quiet_hours(at, time_zone, start, end)


def muted(patient_id, code):
    prefs = ReminderPreference.objects.filter(patient_id=patient_id).values_list("muted_kinds", flat=True).first()
    return code in (prefs or [])


def chart_link(reminder):
    return f"/patients/{reminder.patient_id}/"


def home_link(reminder):
    return "/"


# Follow-up visits: the prescriber, then the coordinator ----------------------------------------------


def _pending_follow_ups(first, last):
    """Draft visits of open courses due between two dates (the follow_up_status_due index)."""
    return FollowUp.objects.pending().filter(due_on__gte=first, due_on__lte=last, course__ended_at__isnull=True)


def _to_prescribers(code, follow_ups, now):
    follow_ups = list(follow_ups.values_list("pk", "patient_id", "due_on", "prescriber_id"))
    prescribers = team([f[1] for f in follow_ups], CareTeamMember.Role.PRESCRIBER)
    return [
        row(code, pk, due_on.isoformat(), due_at=now, user_id=user_id, patient_id=patient_id)
        for pk, patient_id, due_on, prescriber_id in follow_ups
        for user_id in ([prescriber_id] if prescriber_id else prescribers[patient_id])
    ]


@planner
def plan_follow_ups(now):
    today = timezone.localdate(now)
    rows = _to_prescribers(Kind.FOLLOW_UP_SOON, _pending_follow_ups(today + 2 * DAY, today + 7 * DAY), now)
    rows += _to_prescribers(Kind.FOLLOW_UP_TOMORROW, _pending_follow_ups(today + DAY, today + DAY), now)
    rows += _to_prescribers(Kind.FOLLOW_UP_OVERDUE, _pending_follow_ups(today - OVERDUE_LOOKBACK, today - DAY), now)
    week_late = _pending_follow_ups(today - OVERDUE_LOOKBACK, today - 7 * DAY)
    week_late = list(week_late.values_list("pk", "patient_id", "due_on", "patient__medical_group_id"))
    staff = coordinators([f[3] for f in week_late])
    rows += [
        row(Kind.FOLLOW_UP_OVERDUE_COORDINATOR, pk, due_on.isoformat(), due_at=now, user_id=uid, patient_id=pid)
        for pk, pid, due_on, group_id in week_late
        for uid in staff[group_id]
    ]
    return rows


def _follow_up_still_due(reminder, now):
    due_on = occasion_of(reminder)
    if not FollowUp.objects.pending().filter(pk=reminder.object_id, due_on=due_on).exists():
        return "The follow-up visit was signed or moved to another date."
    return ""


for _code in (Kind.FOLLOW_UP_SOON, Kind.FOLLOW_UP_TOMORROW, Kind.FOLLOW_UP_OVERDUE):
    kind(_code, link=chart_link)(_follow_up_still_due)
kind(Kind.FOLLOW_UP_OVERDUE_COORDINATOR, link=chart_link)(_follow_up_still_due)


# Dosing session tomorrow: the patient and their chaperone, with the pre-dosing checklist -------------


@planner
def plan_dosing_tomorrow(now):
    sessions = (
        TherapySession.objects.dosing()
        .filter(status=TherapySession.Status.SCHEDULED, scheduled_at__gt=now, scheduled_at__lte=now + 2 * DAY)
        .values_list("pk", "patient_id", "scheduled_at", "patient__user_id", "patient__chaperone_email")
    )
    sessions = list(sessions)
    timing = patient_timing([s[1] for s in sessions])
    rows = []
    for pk, patient_id, scheduled_at, user_id, chaperone_email in sessions:
        due_at = patient_due(max(scheduled_at - DAY, now), timing[patient_id])
        occasion = scheduled_at.astimezone(datetime.UTC).isoformat()
        for recipient in ({"user_id": user_id}, {"email": chaperone_email}):
            if any(recipient.values()):
                rows.append(row(Kind.DOSING_TOMORROW, pk, occasion, due_at=due_at, patient_id=patient_id, **recipient))
    return rows


@kind(Kind.DOSING_TOMORROW, link=home_link, patient_facing=True)
def _dosing_still_due(reminder, now):
    session = TherapySession.objects.filter(pk=reminder.object_id).values_list("status", "scheduled_at").first()
    if session is None or session[0] != TherapySession.Status.SCHEDULED:
        return "The session was cancelled or has taken place."
    if session[1].astimezone(datetime.UTC).isoformat() != occasion_of(reminder):
        return "The session was moved to another time."
    if session[1] <= now:
        return "The session has started."
    return ""


# Safety alerts: each clinician now and after 1 hour, the coordinators after 4 ---------------------------
#
# An alert waits for the patient's therapist and prescriber as they are now (patients.models.AlertRole). Each
# SafetyAlertRecipient row in a clinician role (told when it was raised, or when they took the role over) gets
# a notice when told and a reminder an hour later; the coordinators get the escalation 4 hours after it was
# raised. At send time a notice or reminder is skipped once the recipient's role has acknowledged it (or they
# left the team: outbox.skip_reason), the escalation once both clinician roles have.

ALERT_REMINDER_AFTER = datetime.timedelta(hours=1)
ALERT_ESCALATION_AFTER = datetime.timedelta(hours=4)
ALERT_LOOKBACK = datetime.timedelta(days=3)


def alert_link(reminder):
    return f"/alerts/{reminder.object_id}/"


def safety_alert_rows(alerts):
    """The rows for alerts given as (id, patient id, raised at, medical group id): a notice to each clinician
    told now, a reminder to each an hour after they were told, and an escalation to the coordinators 4 hours
    after it was raised."""
    alerts = list(alerts)
    recipients = defaultdict(list)
    told = SafetyAlertRecipient.objects.filter(alert_id__in=[a[0] for a in alerts], role__in=CLINICIAN_ALERT_ROLES)
    for alert_id, clinician_id, sent_at in told.values_list("alert_id", "clinician_id", "sent_at"):
        recipients[alert_id].append((clinician_id, sent_at))
    staff = coordinators([a[3] for a in alerts])
    rows = []
    for alert_id, patient_id, raised_at, group_id in alerts:
        for user_id, sent_at in recipients[alert_id]:
            rows += by_email_and_in_app(
                Kind.SAFETY_ALERT_RAISED, alert_id, "raised", due_at=sent_at, user_id=user_id, patient_id=patient_id
            )
        rows += remind_then_escalate(
            (Kind.SAFETY_ALERT_UNACKNOWLEDGED, Kind.SAFETY_ALERT_ESCALATED),
            alert_id,
            patient_id,
            told=recipients[alert_id],
            coordinator_ids=staff[group_id],
            raised_at=raised_at,
        )
    return rows


def remind_then_escalate(kinds, object_id, patient_id, *, told, coordinator_ids, raised_at):
    """A reminder to each person told, an hour after they were told, and an escalation to the coordinators
    4 hours after the event: what alerts and urgent messages share. `told`: (user id, when told) pairs."""
    reminder, escalation = kinds
    rows = []
    for user_id, told_at in told:
        rows += by_email_and_in_app(
            reminder, object_id, "1h", due_at=told_at + ALERT_REMINDER_AFTER, user_id=user_id, patient_id=patient_id
        )
    for user_id in coordinator_ids:
        rows += by_email_and_in_app(
            escalation,
            object_id,
            "4h",
            due_at=raised_at + ALERT_ESCALATION_AFTER,
            user_id=user_id,
            patient_id=patient_id,
        )
    return rows


def alerts_for_planning(queryset):
    return queryset.values_list("pk", "patient_id", "raised_at", "patient__medical_group_id")


@planner
def plan_safety_alerts(now):
    """A backstop: messaging.tasks.notify_safety_alert plans these the moment an alert is raised or handed over."""
    since = now - ALERT_LOOKBACK
    handed_over = SafetyAlertRecipient.objects.filter(
        sent_at__gte=since, sent_at__lte=now, via=SafetyAlertRecipient.Via.HANDOVER
    ).values("alert_id")
    recent = SafetyAlert.objects.filter(Q(raised_at__gte=since, raised_at__lte=now) | Q(pk__in=handed_over))
    return safety_alert_rows(alerts_for_planning(recent))


@kind(Kind.SAFETY_ALERT_RAISED, link=alert_link, safety=True)
@kind(Kind.SAFETY_ALERT_UNACKNOWLEDGED, link=alert_link, safety=True)
def _alert_open_for_recipients_role(reminder, now):
    role = (
        CareTeamMember.objects.active()
        .filter(patient_id=reminder.patient_id, clinician_id=reminder.recipient_id)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        return "The recipient is no longer on the patient's care team."
    if not SafetyAlert.objects.filter(pk=reminder.object_id).open_for_role(role).exists():
        return f"Acknowledged by the {role}."
    return ""


def _escalate(reminder):
    """At send time the coordinator is made a recipient, so they can open and acknowledge the alert."""
    from patients import services as patient_services

    patient_services.safety_alert_escalated(alert_id=reminder.object_id, user_id=reminder.recipient_id)


@kind(Kind.SAFETY_ALERT_ESCALATED, link=alert_link, safety=True, on_send=_escalate)
def _alert_open_for_a_clinician(reminder, now):
    if not SafetyAlert.objects.filter(pk=reminder.object_id).open().exists():
        return "The therapist and the prescriber both acknowledged it."
    return ""


# Urgent care-team messages: each recipient who has not acknowledged after 1 hour, the coordinators after 4 ----
#
# Like an alert: rows planned when the message is sent (messaging.tasks.notify_urgent_message) and by this
# backstop. The coordinator's escalation says only that an urgent message waits (they do not read the care-team
# thread): its link is the chart, where they see the team to call.

URGENT_MESSAGE_LOOKBACK = ALERT_LOOKBACK


def urgent_message_rows(messages):
    """Rows for urgent messages given as (id, patient id, sent at, medical group id)."""
    from messaging.models import MessageRecipient

    messages = list(messages)
    recipients = defaultdict(list)
    receipts = MessageRecipient.objects.filter(message_id__in=[m[0] for m in messages])
    for message_id, user_id in receipts.values_list("message_id", "user_id"):
        recipients[message_id].append(user_id)
    staff = coordinators([m[3] for m in messages])
    rows = []
    for message_id, patient_id, sent_at, group_id in messages:
        rows += remind_then_escalate(
            (Kind.URGENT_MESSAGE_UNACKNOWLEDGED, Kind.URGENT_MESSAGE_ESCALATED),
            message_id,
            patient_id,
            told=[(user_id, sent_at) for user_id in recipients[message_id]],
            coordinator_ids=staff[group_id],
            raised_at=sent_at,
        )
    return rows


def urgent_messages_for_planning(queryset):
    return queryset.filter(urgent=True).values_list("pk", "patient_id", "created_at", "patient__medical_group_id")


@planner
def plan_urgent_messages(now):
    """A backstop: messaging.tasks.notify_urgent_message plans these when the message is sent."""
    from messaging.models import Message

    recent = Message.objects.filter(urgent=True, created_at__gte=now - URGENT_MESSAGE_LOOKBACK, created_at__lte=now)
    return urgent_message_rows(urgent_messages_for_planning(recent))


def thread_link(reminder):
    return f"/patients/{reminder.patient_id}/messages/#message-{reminder.object_id}"


@kind(Kind.URGENT_MESSAGE_UNACKNOWLEDGED, link=thread_link)
def _message_unacknowledged_by_recipient(reminder, now):
    from messaging.models import MessageRecipient

    receipt = MessageRecipient.objects.filter(message_id=reminder.object_id, user_id=reminder.recipient_id)
    if receipt.filter(acknowledged_at__isnull=False).exists():
        return "Acknowledged."
    return ""


@kind(Kind.URGENT_MESSAGE_ESCALATED, link=chart_link)
def _message_unacknowledged_by_someone(reminder, now):
    from messaging.models import MessageRecipient

    if not MessageRecipient.objects.filter(message_id=reminder.object_id, acknowledged_at__isnull=True).exists():
        return "Everyone it went to acknowledged it."
    return ""


# Consent to sign again (a new required version) -------------------------------------------------------


@planner
def plan_consent_resign(now):
    rows = []
    versions = list(ConsentDocument.objects.values_list("pk", "kind", "version"))
    for document in ConsentDocument.objects.current().filter(required=True):
        # The signatures of the kind's earlier versions through the document index: none to read for a first
        # version (a semi-join on the kind read every signature of the network).
        earlier = [pk for pk, kind, version in versions if kind == document.kind and version < document.version]
        if not earlier:
            continue
        signed_current = ConsentSignature.objects.filter(patient_id=OuterRef("patient_id"), document=document)
        older = (
            ConsentSignature.objects.filter(document_id__in=earlier)
            .exclude(patient__stage__in=CLOSED_STAGES)
            .filter(patient__user__isnull=False)
            .exclude(Exists(signed_current))
            .values_list("patient_id", "patient__user_id")
            .order_by("patient_id")
            .distinct()
        )
        older = list(older)
        timing = patient_timing([p for p, _ in older])
        rows += [
            row(
                Kind.CONSENT_RESIGN,
                document.pk,
                f"v{document.version}",
                due_at=patient_due(now, timing[patient_id]),
                user_id=user_id,
                patient_id=patient_id,
            )
            for patient_id, user_id in older
        ]
    return rows


@kind(Kind.CONSENT_RESIGN, link=lambda r: "/consents/", patient_facing=True, essential=False)
def _consent_still_unsigned(reminder, now):
    if ConsentSignature.objects.filter(patient_id=reminder.patient_id, document_id=reminder.object_id).exists():
        return "Signed."
    return ""


# Clinician licence expiring within 30 days: the clinician and their coordinators --------------------


@planner
def plan_licences_expiring(now):
    today = timezone.localdate(now)
    profiles = Licence.objects.filter(
        expires_on__gte=today, expires_on__lte=today + 30 * DAY, clinician__is_active=True
    ).values_list(
        "pk",
        "clinician_id",
        "expires_on",
        "clinician__organization_id",
        "clinician__organization__kind",
        "clinician__organization__medical_group_id",
    )
    profiles = list(profiles)

    def group_of(org_id, org_kind, parent_id):
        return org_id if org_kind == Organization.Kind.MEDICAL_GROUP else parent_id

    staff = coordinators([group_of(*p[3:]) for p in profiles])
    rows = []
    for pk, user_id, expires, org_id, org_kind, parent_id in profiles:
        for recipient_id in [user_id, *staff[group_of(org_id, org_kind, parent_id)]]:
            rows.append(row(Kind.LICENCE_EXPIRING, pk, expires.isoformat(), due_at=now, user_id=recipient_id))
    return rows


@kind(Kind.LICENCE_EXPIRING, link=home_link)
def _licence_not_renewed(reminder, now):
    if not Licence.objects.filter(pk=reminder.object_id, expires_on=occasion_of(reminder)).exists():
        return "The licence was renewed."
    return ""


# Kinds that read other helpers' records: each goes through messaging.reminders.hooks ---------------


@planner
def plan_from_hooks(now):
    return hooks.plan(now, row=row, patient_timing=patient_timing, patient_due=patient_due)


for _code in (Kind.QUESTIONNAIRE_DUE, Kind.QUESTIONNAIRE_OVERDUE):
    kind(_code, link=home_link, patient_facing=True, essential=False)(hooks.still_due)
for _code in (Kind.SESSION_NOTE_UNSIGNED, Kind.SESSION_DOCUMENTATION_MISSING):
    kind(_code, link=chart_link)(hooks.still_due)
kind(Kind.MESSAGE_DIGEST, link=home_link)(hooks.still_due)

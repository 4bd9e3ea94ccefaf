"""Kinds that read records other apps keep (the questionnaire schedule, session notes, unread messages).
Each planner reads every patient's due work at once, without kapcare.access: it is the system deciding
whom to remind, and what it writes is ids only. Each returns [] while the records it reads are missing."""

import datetime
import logging

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from .models import Reminder
from .recipients import team

logger = logging.getLogger(__name__)
Kind = Reminder.Kind
DAY = datetime.timedelta(days=1)
NOTE_UNSIGNED_AFTER = datetime.timedelta(hours=24)
NOTE_LOOKBACK = datetime.timedelta(days=30)
DOCUMENTATION_BEFORE_FOLLOW_UP = 7  # days before the visit the therapist is asked for the missing notes
DIGEST_UNREAD_FOR = datetime.timedelta(hours=1)


def _therapists_for(sessions):
    """{session id: [therapist ids]}: who completed it, else the therapists on the patient's team."""
    from patients.models import CareTeamMember

    on_team = team([s[1] for s in sessions], CareTeamMember.Role.THERAPIST)
    return {pk: [completed_by] if completed_by else on_team[patient_id] for pk, patient_id, completed_by in sessions}


def _session_notes(now, *, row, **helpers):
    """Session note unsigned 24 hours after the session; documentation missing before a follow-up. The unsigned
    notes are the stored due work's (patients.models.DueItem, kind note_to_sign), so planning reads the notes
    waiting, not every session of the last month."""
    from patients.models import DueItem
    from treatment.models import FollowUp, SessionNote, TherapySession

    unsigned = Q(note__isnull=True) | Q(note__status=SessionNote.Status.DRAFT)
    waiting = DueItem.objects.open().filter(kind=DueItem.Kind.NOTE_TO_SIGN).values("object_id")
    late = (
        TherapySession.objects.completed()
        .filter(pk__in=waiting)
        .filter(unsigned, completed_at__lte=now - NOTE_UNSIGNED_AFTER, completed_at__gte=now - NOTE_LOOKBACK)
        .values_list("pk", "patient_id", "completed_by_id")
    )
    late = list(late)
    therapists = _therapists_for(late)
    rows = [
        row(Kind.SESSION_NOTE_UNSIGNED, pk, "24h", due_at=now, user_id=uid, patient_id=patient_id)
        for pk, patient_id, _ in late
        for uid in therapists[pk]
    ]
    today = timezone.localdate(now)
    visit = FollowUp.objects.pending().filter(course=OuterRef("course")).values("due_on")[:1]
    before_visit = (
        TherapySession.objects.completed()
        .filter(unsigned, course__ended_at__isnull=True)
        .filter(
            course__follow_ups__status=FollowUp.Status.DRAFT,
            course__follow_ups__due_on__lte=today + DOCUMENTATION_BEFORE_FOLLOW_UP * DAY,
            course__follow_ups__due_on__gte=today,
        )
        .annotate(visit_on=Subquery(visit))
        .values_list("pk", "patient_id", "completed_by_id", "visit_on")
    )
    before_visit = list(before_visit)
    therapists = _therapists_for([s[:3] for s in before_visit])
    rows += [
        row(Kind.SESSION_DOCUMENTATION_MISSING, pk, visit_on.isoformat(), due_at=now, user_id=uid, patient_id=pid)
        for pk, pid, _, visit_on in before_visit
        for uid in therapists[pk]
    ]
    return rows


def _note_unsigned(reminder, now):
    from treatment.models import SessionNote

    if SessionNote.objects.signed().filter(session_id=reminder.object_id).exists():
        return "The session note is signed."
    return ""


def _questionnaires(now, *, row, patient_timing, patient_due):
    """Questionnaire due and overdue (the patient), from the stored due work (patients.models.DueItem, which the
    services and the reconcile beat keep equal to treatment.measurement.selectors' schedule): the open rows of
    the kind through the due_item_panel index, so planning costs the number of questionnaires due, not the
    caseload. Only patients in an active stage with a portal account are reminded."""
    from patients.models import DueItem, Stage

    today = timezone.localdate(now)
    due = list(
        DueItem.objects.open()
        .filter(
            kind=DueItem.Kind.QUESTIONNAIRE,
            patient__user__isnull=False,
            patient__stage__in=[Stage.PREPARATION, Stage.DOSING, Stage.MAINTENANCE],
        )
        .values_list("patient_id", "key", "due_on", "patient__user_id")
    )
    timing = patient_timing([patient_id for patient_id, *_ in due])
    return [
        row(
            Kind.QUESTIONNAIRE_OVERDUE if due_on < today else Kind.QUESTIONNAIRE_DUE,
            patient_id,
            f"{code}:{due_on.isoformat()}",
            due_at=patient_due(now, timing[patient_id]),
            user_id=user_id,
            patient_id=patient_id,
        )
        for patient_id, code, due_on, user_id in due
    ]


def _questionnaire_unanswered(reminder, now):
    from assessments.models import QuestionnaireResponse

    code = reminder.occasion.split("|", 1)[0].split(":", 1)[0]
    answered = QuestionnaireResponse.objects.filter(
        patient_id=reminder.patient_id, instrument=code, submitted_at__gte=reminder.created_at
    )
    return "Answered." if answered.exists() else ""


def _message_digest(now, *, row, **helpers):
    """Once a day, "You have a new message in KAPCare" to whoever has a message unread for an hour."""
    from messaging import selectors

    users = selectors.users_with_unread_messages(older_than=DIGEST_UNREAD_FOR)
    today = timezone.localdate(now).isoformat()
    return [
        row(Kind.MESSAGE_DIGEST, user_id, today, due_at=now, user_id=user_id, patient_id=patient_id)
        for user_id, patient_id in users.values_list("pk", "patient_record__pk")
    ]


def _messages_unread(reminder, now):
    from messaging import selectors

    if selectors.unread_message_count(reminder.recipient) == 0:
        return "Every message was read."
    return ""


PLANNERS = (_questionnaires, _session_notes, _message_digest)
CHECKS = {
    Kind.QUESTIONNAIRE_DUE: _questionnaire_unanswered,
    Kind.QUESTIONNAIRE_OVERDUE: _questionnaire_unanswered,
    Kind.SESSION_NOTE_UNSIGNED: _note_unsigned,
    Kind.SESSION_DOCUMENTATION_MISSING: _note_unsigned,
    Kind.MESSAGE_DIGEST: _messages_unread,
}


def plan(now, **helpers):
    rows = []
    for planner in PLANNERS:
        try:
            rows += planner(now, **helpers)
        except ImportError as error:  # the other app's part is not merged yet
            logger.warning("Reminder planner %s skipped: %s", planner.__name__, error)
    return rows


def still_due(reminder, now):
    return CHECKS[reminder.kind](reminder, now)

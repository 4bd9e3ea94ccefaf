"""Reminders (issue 7, points 4-7): rows first, planned once, delivered once, on time for the patient,
escalated when a safety alert is left unacknowledged, and visible in the delivery log.

The drills against a real Redis and real worker processes are in test_reminder_drills.py."""

import smtplib
import threading
import zoneinfo
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from messaging.reminders import kinds, outbox
from messaging.reminders.models import Reminder, ReminderPreference
from patients import due_work
from patients import services as patient_services
from patients.models import SafetyAlert
from treatment.course import services as course_services
from treatment.models import FollowUp, TherapySession

Status = Reminder.Status
Kind = Reminder.Kind


# Records the reminders are about, made as the access matrix makes them -------------------------------


def follow_up_due(patient, due_on):
    course = course_services.course_current(actor=None, patient=patient)
    return FollowUp.objects.create(course=course, patient=patient, due_on=due_on)


def dosing_session(patient, at):
    course = course_services.course_current(actor=None, patient=patient)
    return TherapySession.objects.create(
        course=course, patient=patient, kind=TherapySession.Kind.DOSING, scheduled_at=at, created_by=patient.referred_by
    )


def raise_alert(patient):
    return patient_services.safety_alert_raise(
        patient=patient, kind=SafetyAlert.Kind.PHQ9_ITEM9, reason="PHQ-9 item 9 answered 1.", source=patient
    )


CALIFORNIA = zoneinfo.ZoneInfo("America/Los_Angeles")


# Tomorrow in California, fixed when the tests are collected: ahead of every row the fixtures make.
TOMORROW = datetime.now(CALIFORNIA).date() + timedelta(days=1)


def california(days, hour, minute=0):
    """A wall-clock time in California, `days` after TOMORROW, in UTC."""
    day = TOMORROW + timedelta(days=days)
    return datetime.combine(day, dt_time(hour, minute), tzinfo=CALIFORNIA).astimezone(UTC)


def keys():
    return sorted(Reminder.objects.values_list("kind", "object_id", "occasion"))


def deliver_due(django_capture_on_commit_callbacks):
    """What beat's sweeper does every minute, with the tasks run inline (eager) after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return outbox.sweep()


def sent_to(user_or_address):
    address = getattr(user_or_address, "email", user_or_address)
    return [m for m in mail.outbox if address in m.to]


@pytest.fixture
def busy_day(patient_a, patient_b):
    """Due work of several kinds: a follow-up tomorrow, one overdue by 8 days, a dosing session in 30 hours
    (the patient has a chaperone) and a safety alert."""
    today = timezone.localdate()
    patient_a.chaperone_email = "chaperone@example.test"
    patient_a.save(update_fields=["chaperone_email"])
    follow_up_due(patient_a, today + timedelta(days=1))
    follow_up_due(patient_b, today - timedelta(days=8))
    dosing_session(patient_a, timezone.now() + timedelta(hours=30))
    raise_alert(patient_b)
    return patient_a, patient_b


# 4. Rows first: planning is idempotent -----------------------------------------------------------------


@pytest.mark.django_db
def test_planning_twice_creates_each_reminder_once(busy_day):
    outbox.plan()
    first = keys()
    outbox.plan()

    assert keys() == first
    planned_kinds = {k for k, _, _ in first}
    assert {
        Kind.FOLLOW_UP_TOMORROW,
        Kind.FOLLOW_UP_OVERDUE,
        Kind.FOLLOW_UP_OVERDUE_COORDINATOR,
        Kind.DOSING_TOMORROW,
        Kind.SAFETY_ALERT_RAISED,
        Kind.SAFETY_ALERT_UNACKNOWLEDGED,
        Kind.SAFETY_ALERT_ESCALATED,
    } <= planned_kinds
    # the patient and the chaperone each get the dosing reminder
    dosing = Reminder.objects.filter(kind=Kind.DOSING_TOMORROW)
    assert sorted(bool(r.recipient_id) for r in dosing) == [False, True]


@pytest.mark.django_db(transaction=True)
def test_two_planners_at_once_create_each_reminder_once(busy_day):
    start = threading.Barrier(2)
    errors = []

    def planner():
        try:
            start.wait(timeout=10)
            with transaction.atomic():
                outbox.plan()
        except Exception as error:  # reported below, so the test fails with it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=planner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    rows = keys()
    assert rows and len(rows) == len(set(rows))
    outbox.plan()
    assert keys() == rows


def test_planning_costs_the_same_queries_whatever_the_due_work(busy_day, therapist_a, prescriber, coordinator):
    """The planners read date windows over indexed columns and batch by id: no query per patient or row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.fixtures import refer

    with CaptureQueriesContext(connection) as few:
        outbox.plan()
    for n in range(6):
        more = refer(
            therapist_a,
            f"Pat{n}",
            f"Load{n}",
            f"load{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
            account=True,
        )
        follow_up_due(more, timezone.localdate() + timedelta(days=1))
        dosing_session(more, timezone.now() + timedelta(hours=30))
        raise_alert(more)
    with CaptureQueriesContext(connection) as many:
        outbox.plan()

    assert Reminder.objects.filter(kind=Kind.FOLLOW_UP_TOMORROW).count() == 7
    assert len(many.captured_queries) == len(few.captured_queries)


# Delivery: claimed, sent, recorded; once -------------------------------------------------------------------


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_a_due_reminder_is_delivered_once_with_no_patient_data(
    busy_day, prescriber, django_capture_on_commit_callbacks
):
    patient_a, patient_b = busy_day
    outbox.plan()
    deliver_due(django_capture_on_commit_callbacks)

    reminder = Reminder.objects.get(kind=Kind.FOLLOW_UP_TOMORROW)
    assert reminder.status == Status.SENT and reminder.attempts == 1 and reminder.sent_at is not None
    [message] = [m for m in sent_to(prescriber) if m.extra_headers["Message-ID"] == reminder.message_id]
    assert message.subject == "You have a reminder in KAPCare"
    assert f"/patients/{patient_a.pk}/" in message.body
    for patient in (patient_a, patient_b):
        assert patient.last_name not in message.body and patient.first_name not in message.body
    total = len(mail.outbox)

    assert outbox.deliver(reminder.pk) is None  # a redelivered task finds nothing to claim
    deliver_due(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == total


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_the_patient_email_has_their_first_name_a_link_and_the_checklist(patient_a, django_capture_on_commit_callbacks):
    patient_a.chaperone_email = "chaperone@example.test"
    patient_a.save(update_fields=["chaperone_email"])
    with time_machine.travel(california(0, 10)):
        dosing_session(patient_a, timezone.now() + timedelta(hours=20))
        outbox.plan()
        deliver_due(django_capture_on_commit_callbacks)

    [to_patient] = sent_to(patient_a.user)
    assert f"Hello {patient_a.user.first_name}," in to_patient.body
    assert "Arrange a ride home" in to_patient.body
    assert patient_a.last_name not in to_patient.body
    [to_chaperone] = sent_to("chaperone@example.test")
    assert "chaperone" in to_chaperone.body and "Arrange a ride home" in to_chaperone.body
    assert patient_a.first_name not in to_chaperone.body and patient_a.last_name not in to_chaperone.body


class FlakyBackend(LocmemBackend):
    """A mail server that drops the connection for the first `failures` messages."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"No such user")})


@pytest.mark.django_db
def test_transient_failures_are_retried_with_backoff(settings, busy_day, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "messaging.tests.test_reminders.FlakyBackend"
    FlakyBackend.failures = 2
    outbox.plan()
    reminder = Reminder.objects.get(kind=Kind.FOLLOW_UP_TOMORROW)
    start = timezone.now()

    assert outbox.deliver(reminder.pk) == Status.PENDING
    reminder.refresh_from_db()
    assert reminder.attempts == 1 and "SMTPServerDisconnected" in reminder.last_error
    assert timedelta(seconds=59) < reminder.due_at - start < timedelta(seconds=70)  # 1 minute
    assert outbox.deliver(reminder.pk) is None  # not due yet

    with time_machine.travel(start + timedelta(minutes=1, seconds=5)):
        assert outbox.deliver(reminder.pk) == Status.PENDING
    reminder.refresh_from_db()
    assert reminder.attempts == 2 and reminder.due_at - start > timedelta(minutes=4)  # then 4 minutes

    with time_machine.travel(start + timedelta(minutes=6)):
        assert outbox.deliver(reminder.pk) == Status.SENT
    reminder.refresh_from_db()
    assert reminder.attempts == 3 and reminder.last_error == ""
    assert len([m for m in mail.outbox if m.extra_headers["Message-ID"] == reminder.message_id]) == 1


@pytest.mark.django_db
def test_it_gives_up_after_the_limit_and_says_why(settings, busy_day):
    settings.EMAIL_BACKEND = "messaging.tests.test_reminders.FlakyBackend"
    settings.REMINDER_MAX_ATTEMPTS = 3
    FlakyBackend.failures = 10
    outbox.plan()
    reminder = Reminder.objects.get(kind=Kind.FOLLOW_UP_TOMORROW)
    with time_machine.travel(timezone.now(), tick=True) as clock:
        for _ in range(3):
            outbox.deliver(reminder.pk)
            clock.shift(timedelta(hours=1))
    reminder.refresh_from_db()

    assert reminder.status == Status.FAILED and reminder.attempts == 3
    assert reminder.last_error.startswith("Gave up after 3 attempts. SMTPServerDisconnected")
    assert outbox.deliver(reminder.pk) is None


@pytest.mark.django_db
def test_a_refused_address_fails_at_once(settings, busy_day):
    settings.EMAIL_BACKEND = "messaging.tests.test_reminders.RefusingBackend"
    outbox.plan()
    reminder = Reminder.objects.get(kind=Kind.FOLLOW_UP_TOMORROW)

    assert outbox.deliver(reminder.pk) == Status.FAILED
    reminder.refresh_from_db()
    assert reminder.attempts == 1 and "refused" in reminder.last_error
    assert "@" not in reminder.last_error  # the delivery log names the failure, never the address


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_the_sweeper_takes_back_a_row_a_dead_worker_left_sending(busy_day, django_capture_on_commit_callbacks):
    outbox.plan()
    reminder = Reminder.objects.get(kind=Kind.FOLLOW_UP_TOMORROW)
    assert outbox.claim(reminder.pk, timezone.now()) is not None  # ... and the worker died here
    deliver_due(django_capture_on_commit_callbacks)
    reminder.refresh_from_db()
    assert reminder.status == Status.SENDING  # not yet: it might still be sending

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        result = deliver_due(django_capture_on_commit_callbacks)
    reminder.refresh_from_db()

    assert result["requeued"] == 1
    assert reminder.status == Status.SENT and reminder.attempts == 2
    assert len([m for m in mail.outbox if m.extra_headers["Message-ID"] == reminder.message_id]) == 1


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_a_reminder_that_no_longer_holds_is_skipped(busy_day, prescriber, django_capture_on_commit_callbacks):
    outbox.plan()
    FollowUp.objects.filter(due_on=timezone.localdate() + timedelta(days=1)).update(
        due_on=timezone.localdate() + timedelta(days=20)
    )
    deliver_due(django_capture_on_commit_callbacks)

    reminder = Reminder.objects.get(kind=Kind.FOLLOW_UP_TOMORROW)
    assert reminder.status == Status.SKIPPED
    assert reminder.last_error == "The follow-up visit was signed or moved to another date."


# A rolled-back transaction publishes nothing -----------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_a_rolled_back_alert_publishes_nothing(patient_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as published, pytest.raises(Boom), transaction.atomic():
        raise_alert(patient_a)
        raise Boom
    assert published == []
    assert not SafetyAlert.objects.exists()

    with django_capture_on_commit_callbacks() as published:
        raise_alert(patient_a)
    # (the dashboards' count cache also takes a note on commit: kapcare.caseload_cache)
    notifications = [
        callback for callback in published if "notification" in getattr(callback, "func", callback).__name__
    ]
    assert len(notifications) == 1  # the same call, committed, publishes the notification task


@pytest.mark.django_db
def test_a_rolled_back_dispatch_publishes_nothing_and_leaves_the_rows_to_dispatch(
    busy_day, django_capture_on_commit_callbacks
):
    outbox.plan()
    with django_capture_on_commit_callbacks() as published, pytest.raises(Boom), transaction.atomic():
        assert outbox.dispatch_due()
        raise Boom
    assert published == []
    assert not Reminder.objects.filter(enqueued_at__isnull=False).exists()
    assert not mail.outbox

    with django_capture_on_commit_callbacks() as published:
        outbox.dispatch_due()
    assert len(published) == 1


# 5. Patient-facing timing: the patient's time zone, quiet hours, their choices ---------------------------------


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_a_patient_reminder_waits_for_the_end_of_quiet_hours_in_their_time_zone(
    patient_a, django_capture_on_commit_callbacks
):
    assert patient_a.time_zone == "America/Los_Angeles"
    with time_machine.travel(california(0, 4)):
        session = dosing_session(patient_a, california(1, 7, 30))
        outbox.plan()
    reminder = Reminder.objects.get(kind=Kind.DOSING_TOMORROW)
    # 24 hours before is 07:30 on the 28th, inside 21:00-08:00: due at 08:00 California time
    assert reminder.due_at == california(0, 8)

    with time_machine.travel(california(0, 7, 59)):
        deliver_due(django_capture_on_commit_callbacks)
    assert sent_to(patient_a.user) == []
    with time_machine.travel(california(0, 8, 1)):
        deliver_due(django_capture_on_commit_callbacks)
    assert len(sent_to(patient_a.user)) == 1
    assert session.pk


@pytest.mark.django_db
def test_the_same_hour_is_quiet_for_one_patient_and_not_for_another(patient_a, patient_b):
    patient_services.patient_update_profile(actor=patient_b.user, patient=patient_b, time_zone="Asia/Tokyo")
    patient_b.refresh_from_db()
    with time_machine.travel(california(0, 21)):  # early afternoon in Tokyo
        timing = kinds.patient_timing([patient_a.pk, patient_b.pk])
        now = timezone.now()
        assert kinds.patient_due(now, timing[patient_a.pk]) == california(1, 8)
        assert kinds.patient_due(now, timing[patient_b.pk]) == now


@pytest.mark.django_db
def test_a_reminder_due_in_quiet_hours_is_held_without_counting_an_attempt(patient_a):
    ReminderPreference.objects.create(patient=patient_a, quiet_start="22:00", quiet_end="07:00")
    with time_machine.travel(california(0, 12)):
        dosing_session(patient_a, california(1, 12))
        outbox.plan()
    reminder = Reminder.objects.get(kind=Kind.DOSING_TOMORROW)
    with time_machine.travel(california(0, 22, 30)):  # inside the patient's own quiet hours
        assert outbox.deliver(reminder.pk) == Status.PENDING
    reminder.refresh_from_db()
    assert reminder.attempts == 0
    assert reminder.due_at == california(1, 7)  # the patient's own end
    assert not mail.outbox


@pytest.mark.django_db
def test_a_patient_can_turn_off_a_non_essential_kind(patient_a, django_capture_on_commit_callbacks):
    assert Kind.CONSENT_RESIGN in kinds.non_essential_patient_kinds()
    assert Kind.DOSING_TOMORROW not in kinds.non_essential_patient_kinds()
    ReminderPreference.objects.create(patient=patient_a, muted_kinds=[Kind.CONSENT_RESIGN])
    reminder = Reminder.objects.create(
        kind=Kind.CONSENT_RESIGN,
        object_id="1",
        occasion="v2|user:x",
        recipient=patient_a.user,
        patient=patient_a,
        due_at=timezone.now(),
    )
    assert outbox.deliver(reminder.pk) == Status.SKIPPED
    reminder.refresh_from_db()
    assert reminder.last_error == "The patient turned this kind of reminder off."


# Safety alerts: after 1 hour each clinician who has not acknowledged, after 4 hours the coordinator ------------


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_an_unacknowledged_alert_reminds_then_escalates(
    patient_a, therapist_a, prescriber, coordinator, django_capture_on_commit_callbacks
):
    raised = california(1, 2)  # the middle of the night for everyone: safety escalations ignore quiet hours
    with time_machine.travel(raised, tick=False), django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(patient_a)
    assert len(sent_to(therapist_a)) == 1 and len(sent_to(prescriber)) == 1  # the notice, at once
    assert sent_to(therapist_a)[0].subject == "You have a safety alert in KAPCare"

    with time_machine.travel(raised + timedelta(minutes=30)):
        patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="Called; safe tonight.")
    with time_machine.travel(raised + timedelta(minutes=59)):
        deliver_due(django_capture_on_commit_callbacks)
    assert len(sent_to(prescriber)) == 1

    with time_machine.travel(raised + timedelta(minutes=61)):
        deliver_due(django_capture_on_commit_callbacks)
    assert len(sent_to(prescriber)) == 2  # the prescriber has not acknowledged
    assert len(sent_to(therapist_a)) == 1  # the therapist has
    skipped = Reminder.objects.filter(kind=Kind.SAFETY_ALERT_UNACKNOWLEDGED, recipient=therapist_a)
    assert {r.status for r in skipped} == {Status.SKIPPED}

    with time_machine.travel(raised + timedelta(hours=3, minutes=59)):
        deliver_due(django_capture_on_commit_callbacks)
    assert sent_to(coordinator) == []
    with time_machine.travel(raised + timedelta(hours=4, minutes=1)):
        deliver_due(django_capture_on_commit_callbacks)
    [escalation] = sent_to(coordinator)
    assert escalation.subject == "You have a safety alert in KAPCare"
    from messaging.models import Notification

    [badge] = Notification.objects.filter(recipient=coordinator)  # and in the app, once
    assert badge.title == "Safety alert unacknowledged after 4 hours (coordinator)" and badge.patient == patient_a
    assert Notification.objects.filter(recipient=prescriber).count() == 2  # the notice, then the 1-hour reminder
    assert patient_a.last_name not in escalation.body and patient_a.first_name not in escalation.body


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_no_escalation_once_everyone_acknowledged(
    patient_a, therapist_a, prescriber, coordinator, django_capture_on_commit_callbacks
):
    raised = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(patient_a)
    for clinician in (therapist_a, prescriber):
        patient_services.safety_alert_acknowledge(actor=clinician, alert=alert, note="Seen and handled.")
    with time_machine.travel(raised + timedelta(hours=5)):
        deliver_due(django_capture_on_commit_callbacks)

    assert sent_to(coordinator) == []
    escalation = Reminder.objects.get(kind=Kind.SAFETY_ALERT_ESCALATED, channel=Reminder.Channel.EMAIL)
    assert escalation.status == Status.SKIPPED
    assert escalation.last_error == "The therapist and the prescriber both acknowledged it."


@pytest.mark.django_db
def test_a_lost_notification_task_is_made_up_by_the_planner(patient_a, therapist_a, prescriber):
    raise_alert(patient_a)  # in a test transaction: the on-commit task never ran, as if Redis had lost it
    assert not Reminder.objects.exists()
    outbox.plan()
    assert Reminder.objects.filter(kind=Kind.SAFETY_ALERT_UNACKNOWLEDGED, channel=Reminder.Channel.EMAIL).count() == 2
    assert Reminder.objects.filter(kind=Kind.SAFETY_ALERT_UNACKNOWLEDGED, channel=Reminder.Channel.IN_APP).count() == 2


# Other kinds --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_follow_up_reminders_go_to_the_prescriber_then_the_coordinator(patient_a, prescriber, coordinator):
    today = timezone.localdate()
    soon = follow_up_due(patient_a, today + timedelta(days=6))
    outbox.plan()
    # Visits and prescriptions add their own (book your follow-up, the PDMP check before it): not these.
    prescriber_reminders = Reminder.objects.exclude(kind__in=[Kind.FOLLOW_UP_TO_BOOK, Kind.PDMP_CHECK_DUE])
    assert list(prescriber_reminders.values_list("kind", "recipient")) == [(Kind.FOLLOW_UP_SOON, prescriber.pk)]
    assert Reminder.objects.get(kind=Kind.FOLLOW_UP_TO_BOOK).recipient == patient_a.user, "the patient books it"

    with time_machine.travel(timezone.now() + timedelta(days=5)):
        outbox.plan()
    assert Reminder.objects.filter(kind=Kind.FOLLOW_UP_TOMORROW, recipient=prescriber).count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        outbox.plan()
    assert Reminder.objects.filter(kind=Kind.FOLLOW_UP_OVERDUE, recipient=prescriber).count() == 1
    assert not Reminder.objects.filter(recipient=coordinator).exists()
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        outbox.plan()
        outbox.plan()
    assert Reminder.objects.filter(kind=Kind.FOLLOW_UP_OVERDUE_COORDINATOR, recipient=coordinator).count() == 1
    assert prescriber_reminders.filter(object_id=str(soon.pk)).count() == 4


@pytest.mark.django_db
def test_a_licence_expiring_within_30_days_reminds_the_clinician_and_the_coordinator(prescriber, coordinator):
    prescriber.licences.update(expires_on=timezone.localdate() + timedelta(days=20))
    outbox.plan()

    recipients = set(Reminder.objects.filter(kind=Kind.LICENCE_EXPIRING).values_list("recipient", flat=True))
    assert recipients == {prescriber.pk, coordinator.pk}
    assert not Reminder.objects.filter(kind=Kind.LICENCE_EXPIRING, patient__isnull=False).exists()


@pytest.mark.django_db
def test_every_kind_has_a_check_and_a_link():
    assert set(kinds.KINDS) == set(Kind.values)
    for spec in kinds.KINDS.values():
        assert spec.link(Reminder(kind=spec.kind, patient_id=None)).startswith("/")


@pytest.mark.django_db
def test_a_session_note_unsigned_after_24_hours_reminds_the_therapist(patient_a, therapist_a, prescriber):
    from treatment.models import SessionNote

    session = dosing_session(patient_a, timezone.now() - timedelta(hours=2))
    TherapySession.objects.filter(pk=session.pk).update(
        status=TherapySession.Status.COMPLETED,
        completed_at=timezone.now() - timedelta(hours=1),
        completed_by=therapist_a,
    )
    SessionNote.objects.create(session=session, patient=patient_a, author=therapist_a, body="Draft.")
    due_work.reconcile()  # the beat's: these writes went around the services, which keep the due work
    outbox.plan()
    assert not Reminder.objects.filter(kind=Kind.SESSION_NOTE_UNSIGNED).exists()  # 1 hour: not yet

    with time_machine.travel(timezone.now() + timedelta(hours=24)):
        outbox.plan()
    [reminder] = Reminder.objects.filter(kind=Kind.SESSION_NOTE_UNSIGNED)
    assert reminder.recipient == therapist_a and reminder.patient == patient_a


@pytest.mark.django_db
def test_documentation_missing_before_a_follow_up_reminds_the_therapist(patient_a, therapist_a):
    session = dosing_session(patient_a, timezone.now() - timedelta(days=3))
    TherapySession.objects.filter(pk=session.pk).update(
        status=TherapySession.Status.COMPLETED,
        completed_at=timezone.now() - timedelta(days=3),
        completed_by=therapist_a,
    )
    follow_up_due(patient_a, timezone.localdate() + timedelta(days=10))
    outbox.plan()
    assert not Reminder.objects.filter(kind=Kind.SESSION_DOCUMENTATION_MISSING).exists()  # the visit is 10 days away

    with time_machine.travel(timezone.now() + timedelta(days=4)):
        outbox.plan()
    [reminder] = Reminder.objects.filter(kind=Kind.SESSION_DOCUMENTATION_MISSING)
    assert reminder.recipient == therapist_a and reminder.object_id == str(session.pk)


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_unread_care_team_messages_get_one_digest_a_day(
    patient_a, therapist_a, prescriber, django_capture_on_commit_callbacks
):
    from messaging import services as messaging_services

    messaging_services.message_send(actor=therapist_a, patient=patient_a, body="Integration went well today.")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        outbox.plan()
        outbox.plan()
        deliver_due(django_capture_on_commit_callbacks)
    [digest] = Reminder.objects.filter(kind=Kind.MESSAGE_DIGEST)
    assert digest.recipient == prescriber and digest.status == Status.SENT
    [message] = sent_to(prescriber)
    assert "Integration went well" not in message.body and patient_a.last_name not in message.body


@pytest.mark.django_db
def test_a_questionnaire_due_reminds_the_patient(therapist_a, prescriber, patient_a):
    from tests import course_states

    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    course_states.completed_session(therapist_a, patient_a, TherapySession.Kind.DOSING)
    patient_a.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        outbox.plan()
        assert not Reminder.objects.filter(patient=patient_a, kind__startswith="questionnaire").exists()
        due_work.reconcile()  # the beat stores what the clock alone made due (the next questionnaires)
        outbox.plan()
    due = Reminder.objects.filter(kind__in=[Kind.QUESTIONNAIRE_DUE, Kind.QUESTIONNAIRE_OVERDUE])
    assert due.exists()
    assert {r.recipient_id for r in due} == {patient_a.user_id}


# 7. The delivery log: the coordinator's page and the chart ----------------------------------------------------


def failed_and_sent(patient, recipient):
    base = {"patient": patient, "recipient": recipient, "due_at": timezone.now(), "object_id": "1"}
    failed = Reminder.objects.create(
        kind=Kind.FOLLOW_UP_OVERDUE,
        occasion="f",
        status=Status.FAILED,
        attempts=5,
        last_error="Gave up after 5 attempts. SMTPServerDisconnected: Connection unexpectedly closed",
        **base,
    )
    sent = Reminder.objects.create(
        kind=Kind.FOLLOW_UP_TOMORROW, occasion="s", status=Status.SENT, attempts=1, sent_at=timezone.now(), **base
    )
    return failed, sent


@pytest.mark.django_db
def test_the_coordinator_sees_what_failed_and_why(client, coordinator, prescriber, patient_a):
    failed_and_sent(patient_a, prescriber)
    client.force_login(coordinator)

    everything = client.get("/reminders/").content.decode()
    assert everything.count(f"{patient_a.last_name}, {patient_a.first_name}") == 2
    only_failed = client.get("/reminders/?status=failed").content.decode()
    assert "Gave up after 5 attempts. SMTPServerDisconnected" in only_failed
    assert only_failed.count(f"{patient_a.last_name}, {patient_a.first_name}") == 1
    assert "Failed (1)" in only_failed and "Sent (1)" in only_failed
    assert client.get("/reminders/?status=nonsense&kind=%00").status_code == 200


@pytest.mark.django_db
def test_the_log_shows_nobody_elses_patients_and_is_refused_to_patients(client, outside_world, prescriber, patient_a):
    failed_and_sent(patient_a, prescriber)
    client.force_login(outside_world["coordinator"])
    page = client.get("/reminders/").content.decode()
    assert "SMTPServerDisconnected" not in page and patient_a.last_name not in page
    assert "No reminders." in page

    client.force_login(patient_a.user)
    assert client.get("/reminders/").status_code == 403


@pytest.mark.parametrize("rows", [1, 30])
@pytest.mark.django_db
def test_the_log_costs_the_same_queries_whatever_the_rows(client, coordinator, prescriber, patient_a, rows):
    from tests.test_query_counts import queries_for

    for n in range(rows):
        Reminder.objects.create(
            kind=Kind.FOLLOW_UP_OVERDUE,
            object_id=str(n),
            occasion="x",
            recipient=prescriber,
            patient=patient_a,
            due_at=timezone.now(),
        )
    client.force_login(coordinator)
    assert queries_for(client, "/reminders/") == LOG_QUERIES


# session, user, second factor, the page's count and rows, the status counts and one audit INSERT (the menu's
# notification badge comes from kapcare.caseload_cache once warm; the idle clock, kept to the minute, writes nothing)
LOG_QUERIES = 7


@pytest.mark.django_db
def test_the_chart_shows_the_patients_reminders_to_the_team_not_to_the_patient(
    client, therapist_a, prescriber, patient_a
):
    failed_and_sent(patient_a, prescriber)
    client.force_login(therapist_a)
    chart = client.get(f"/patients/{patient_a.pk}/chart/reminders/").content.decode()
    assert 'id="chart-reminders-heading"' in chart
    assert "SMTPServerDisconnected" in chart and str(prescriber) in chart

    client.force_login(patient_a.user)
    assert (
        'id="chart-reminders-heading"' not in client.get(f"/patients/{patient_a.pk}/chart/reminders/").content.decode()
    )


@pytest.mark.django_db
def test_the_patient_sets_quiet_hours_and_turns_off_an_optional_reminder_on_their_profile(client, patient_a):
    client.force_login(patient_a.user)
    profile = client.get("/profile/").content.decode()
    assert "Optional reminders I want" in profile and 'value="consent_resign"' in profile
    assert 'value="dosing_tomorrow"' not in profile  # essential: cannot be turned off

    response = client.post(
        "/reminders/preferences/",
        {"quiet_start": "22:30", "quiet_end": "07:00", "wanted": [Kind.QUESTIONNAIRE_DUE]},
    )
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(patient=patient_a)
    assert str(preference.quiet_start) == "22:30:00"
    assert sorted(preference.muted_kinds) == sorted([Kind.CONSENT_RESIGN, Kind.QUESTIONNAIRE_OVERDUE])

    refused = client.post(
        "/reminders/preferences/", {"quiet_start": "22:30", "quiet_end": "07:00", "wanted": ["dosing_tomorrow"]}
    )
    assert refused.status_code == 200 and "is not one of the available choices" in refused.content.decode()


@pytest.mark.celery_eager
@pytest.mark.django_db
def test_a_new_consent_version_asks_the_patient_to_sign_again(patient_a, django_capture_on_commit_callbacks):
    from patients.models import ConsentDocument
    from tests import course_states

    course_states.sign_consents(patient_a)
    outbox.plan()
    assert not Reminder.objects.filter(kind=Kind.CONSENT_RESIGN).exists()

    old = ConsentDocument.objects.current().get(kind="kap_informed_consent")
    with time_machine.travel(california(1, 12)):
        new = ConsentDocument.objects.create(
            kind=old.kind,
            version=old.version + 1,
            title=old.title,
            body=old.body + "\n\nA new paragraph.",
            required=True,
            published_at=timezone.now(),
        )
        outbox.plan()
        outbox.plan()
        [reminder] = Reminder.objects.filter(kind=Kind.CONSENT_RESIGN)
        assert reminder.recipient == patient_a.user and reminder.object_id == str(new.pk)
        deliver_due(django_capture_on_commit_callbacks)
    assert reminder.__class__.objects.get(pk=reminder.pk).status == Status.SENT
    [email] = sent_to(patient_a.user)
    assert email.body.count("/consents/") == 1 and "informed consent" not in email.body.lower()

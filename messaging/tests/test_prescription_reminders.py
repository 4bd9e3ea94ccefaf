"""Reminders of issue 21: the refill window closing (6 months after issue), a PDMP check due before a follow-up,
and a site's controlled-substance count due, each planned once for the prescriber and skipped once done."""

from datetime import date, timedelta

import time_machine
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from messaging.reminders import kinds, outbox
from messaging.reminders.models import Reminder
from treatment.models import CarePolicy, FollowUp, StockSite
from treatment.prescriptions import services, stock
from treatment.tests.test_prescriptions import issue, pdmp, plan  # noqa: F401 (a fixture)


def planned(kind):
    return Reminder.objects.filter(kind=kind)


def test_the_refill_window_closing_is_planned_for_the_prescriber(plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="3", refills=2)
    outbox.plan()
    assert not planned("refill_window_closing").exists()
    later = timezone.now() + (rx.issued_on + relativedelta(months=6) - timedelta(days=10) - rx.issued_on)
    with time_machine.travel(later):
        outbox.plan()
        outbox.plan()
    [reminder] = planned("refill_window_closing")
    assert reminder.recipient == prescriber and reminder.patient_id == patient_a.pk
    assert kinds.KINDS["refill_window_closing"].skip_reason(reminder, later) == ""


def test_no_refill_window_reminder_once_every_refill_is_filled(plan, prescriber, patient_a):  # noqa: F811
    pdmp(prescriber, patient_a)
    rx = issue(prescriber, patient_a, quantity="3", refills=2)
    for _fill in range(3):  # the first fill and both refills
        services.fill_record(actor=patient_a.user, prescription=rx, filled_on=timezone.localdate(), method="pickup")
    later = timezone.now() + (rx.issued_on + relativedelta(months=6) - timedelta(days=10) - rx.issued_on)
    with time_machine.travel(later):
        outbox.plan()
    assert not planned("refill_window_closing").exists()


def test_a_pdmp_check_is_due_before_a_follow_up(plan, prescriber, patient_a):  # noqa: F811
    follow_up = FollowUp.objects.pending().get(patient=patient_a)
    at = timezone.make_aware(
        timezone.datetime.combine(follow_up.due_on - timedelta(days=2), timezone.datetime.min.time())
    )
    with time_machine.travel(at + timedelta(hours=12)):
        outbox.plan()
        [reminder] = planned("pdmp_check_due")
        assert reminder.recipient == prescriber
        pdmp(prescriber, patient_a)
        assert kinds.KINDS["pdmp_check_due"].skip_reason(reminder, timezone.now()) == "A PDMP check was attested."


def test_a_site_count_is_due_every_week(medical_group, prescriber):
    site = StockSite.objects.create(medical_group=medical_group, name="Office", address="1 Main St")
    stock.stock_receive(actor=prescriber, site=site, lot="L1", expires_on=date(2099, 1, 1), quantity_mg=100)
    outbox.plan()
    [reminder] = planned("stock_count_due")
    assert reminder.recipient == prescriber and reminder.patient_id is None
    stock.stock_count(actor=prescriber, site=site, lot="L1", counted_mg=100)
    assert kinds.KINDS["stock_count_due"].skip_reason(reminder, timezone.now()) == "The site was counted."


def _two_days_before(follow_up):
    day = follow_up.due_on - timedelta(days=2)
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timedelta(hours=12)


def test_the_pdmp_reminder_follows_the_groups_policy(plan, prescriber, patient_a):  # noqa: F811
    """A check four days old is fresh under the default 7 days, stale under a policy of 3."""
    follow_up = FollowUp.objects.pending().get(patient=patient_a)
    with time_machine.travel(_two_days_before(follow_up)):
        pdmp(prescriber, patient_a, days_ago=4)
        outbox.plan()
        assert not planned("pdmp_check_due").exists()
        CarePolicy.objects.filter(medical_group=patient_a.medical_group).update(pdmp_max_age_days=3)
        outbox.plan()
        [reminder] = planned("pdmp_check_due")
        assert reminder.recipient == prescriber
        skip = kinds.KINDS["pdmp_check_due"].skip_reason
        assert skip(reminder, timezone.now()) == ""
        pdmp(prescriber, patient_a, days_ago=3)
        assert skip(reminder, timezone.now()) == "A PDMP check was attested."


def test_a_pdmp_check_of_another_state_does_not_stop_the_reminder(plan, prescriber, patient_a):  # noqa: F811
    follow_up = FollowUp.objects.pending().get(patient=patient_a)
    with time_machine.travel(_two_days_before(follow_up)):
        pdmp(prescriber, patient_a, state="OR")
        outbox.plan()
        [reminder] = planned("pdmp_check_due")
        assert kinds.KINDS["pdmp_check_due"].skip_reason(reminder, timezone.now()) == ""

"""Clinical safety, the dose-gate half of issue 12: every dose gate is judged on the real timeline (doses taken,
sessions ended, integrations started), late entries are explicit, an open risk alert or an overdue follow-up
holds the dose, the first plan is capped, weekly windows follow the patient's calendar and refusals print the
patient's local time.

Each hostile path is walked through the API and through the portal's forms (the `channel` fixture): the
refusal names its rule in both, next to the allowed path."""

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from kapcare.audit.models import AuditEvent
from kapcare.rules import RuleRefused
from patients import services as patient_services
from patients.models import SafetyAlert
from tests.course_states import (
    END_CRITERIA,
    IN_RANGE,
    completed_session,
    confirm_checklist,
    ready_for_evaluation,
    ready_to_dose,
    signed_dose_plan,
    signed_evaluation,
)
from treatment.course import gates
from treatment.course import selectors as course_selectors
from treatment.models import CarePolicy, DosingRecord, FollowUp, TherapySession
from treatment.sessions import selectors as session_selectors
from treatment.sessions import services as session_services

LATE = "Entered after the fact from the paper record."
PACIFIC = ZoneInfo("America/Los_Angeles")
# Each rule's code and the words that name it in the API's detail and on the page.
NAMES = {
    "late_entry_reason_required": "late entries are explicit",
    "monitoring_time": "minimum monitoring time",
    "integration_before_dosing_ended": "integration after the dosing session",
    "session_not_over": "a session lasts at least",
    gates.IN_ORDER: "dosing sessions in order",
    gates.INTEGRATION: "integration between dosing sessions",
    gates.MIN_INTERVAL: "at least 72 hours between doses",
    gates.WEEKLY_LIMIT: "dosing session in 7 days",
    gates.RISK_HOLD: "no open risk alert",
    gates.FOLLOW_UP_OVERDUE: "follow-up not overdue",
    gates.FIRST_PLAN_CAP: "doses before the first follow-up",
    gates.PREPARATION: "preparation completed",
    gates.CHECKLIST: "pre-dosing checklist confirmed",
    gates.PRE_DOSE_VITALS: "pre-dose vitals",
}


@dataclass
class Outcome:
    ok: bool
    status: int
    text: str
    code: str = ""
    session_id: str = ""


class Api:
    """Each step through /api/v1/."""

    name = "api"

    def __init__(self, api, patient):
        self.api, self.patient = api, patient

    def _post(self, user, path, body):
        response = self.api.as_user(user).post(path, body, format="json")
        data = response.json() if response.content else {}
        return Outcome(
            ok=response.status_code in (200, 201),
            status=response.status_code,
            text=str(data.get("detail", data)),
            code=data.get("code", "") if isinstance(data, dict) else "",
            session_id=str(data.get("id", "")) if isinstance(data, dict) else "",
        )

    def book(self, user, kind, at, reason=""):
        body = {"patient": str(self.patient.pk), "kind": kind, "scheduled_at": at.isoformat(), "reason": reason}
        return self._post(user, "/api/v1/sessions/", body)

    def complete(self, user, session_id):
        return self._post(user, f"/api/v1/sessions/{session_id}/complete/", {})

    def vitals(self, user, session_id, phase):
        return self._post(user, f"/api/v1/sessions/{session_id}/vitals/", {"phase": phase, **IN_RANGE})

    def dose(self, user, session_id, mg="200.0", taken_at=None):
        body = {"dose_mg": mg, **({"taken_at": taken_at.isoformat()} if taken_at else {})}
        return self._post(user, f"/api/v1/sessions/{session_id}/dose/", body)

    def booster(self, user, session_id, mg="50.0"):
        return self._post(user, f"/api/v1/sessions/{session_id}/boosters/", {"dose_mg": mg})

    def end(self, user, session_id, ended_at=None):
        body = {**END_CRITERIA, **({"ended_at": ended_at.isoformat()} if ended_at else {})}
        return self._post(user, f"/api/v1/sessions/{session_id}/end/", body)


class Portal:
    """Each step through the web forms, times typed in the patient's time zone."""

    name = "portal"

    def __init__(self, client, patient):
        self.client, self.patient = client, patient
        self.base = f"/patients/{patient.pk}/sessions/"

    def _local(self, at):
        return at.astimezone(ZoneInfo(self.patient.time_zone)).strftime("%Y-%m-%dT%H:%M")

    def _post(self, user, path, body):
        self.client.force_login(user)
        response = self.client.post(path, body, follow=True)
        text = html.unescape(response.content.decode())
        refused = response.redirect_chain == [] or 'class="message error"' in text
        session_id = ""
        if response.redirect_chain:
            session_id = response.redirect_chain[-1][0].rstrip("/").split("/")[-1]
        return Outcome(ok=not refused, status=response.status_code, text=text, session_id=session_id)

    def book(self, user, kind, at, reason=""):
        body = {"kind": kind, "scheduled_at": self._local(at), "modality": "in_person", "reason": reason}
        return self._post(user, f"{self.base}new/", body)

    def complete(self, user, session_id):
        return self._post(user, f"{self.base}{session_id}/complete/", {})

    def vitals(self, user, session_id, phase):
        body = {"action": "vitals", "vitals-phase": phase, "vitals-taken_by": "therapist"}
        body.update({f"vitals-{k}": v for k, v in IN_RANGE.items() if k != "taken_by"})
        return self._post(user, f"{self.base}{session_id}/", body)

    def dose(self, user, session_id, mg="200.0", taken_at=None):
        body = {"action": "dose", "dose-dose_mg": mg, "dose-taken_at": self._local(taken_at) if taken_at else ""}
        return self._post(user, f"{self.base}{session_id}/", body)

    def booster(self, user, session_id, mg="50.0"):
        return self._post(user, f"{self.base}{session_id}/", {"action": "booster", "booster-dose_mg": mg})

    def end(self, user, session_id, ended_at=None):
        body = {"action": "end", **{f"end-{k}": "on" for k in END_CRITERIA}}
        body["end-ended_at"] = self._local(ended_at) if ended_at else ""
        return self._post(user, f"{self.base}{session_id}/", body)


@pytest.fixture(params=["api", "portal"])
def channel(request, api, client, patient_a):
    return Api(api, patient_a) if request.param == "api" else Portal(client, patient_a)


def refused(outcome: Outcome, code: str):
    """The step was refused naming the rule (and, through the API, with its code)."""
    assert not outcome.ok, outcome.text[:500]
    assert NAMES[code] in outcome.text, (code, outcome.text[-3000:])
    if outcome.code:
        assert outcome.code == code
    return outcome


def allowed(outcome: Outcome):
    assert outcome.ok, outcome.text[-3000:]
    return outcome


def evaluated(therapist, prescriber, patient, **plan):
    """Eligible, consents signed, a signed plan of 200 mg full doses (no preparation session yet)."""
    ready_for_evaluation(patient)
    signed_evaluation(prescriber, patient)
    return signed_dose_plan(prescriber, patient, start_at="full", **plan)


def a_minute_ahead():
    """The next whole minute: a frozen clock that starts before the care team joined would hide the patient."""
    return (timezone.now() + timedelta(minutes=1)).replace(second=0, microsecond=0)


def taken(session_id):
    return DosingRecord.objects.filter(session_id=session_id, dose_taken_at__isnull=False).count()


# 1. One timeline of real events --------------------------------------------------------------------------


def test_the_backdated_series_is_refused_at_each_step(channel, therapist_a, prescriber, patient_a):
    """Book preparation, dosing and integration 30-40 days in the past, complete them at once and dose three
    times: the real timeline refuses every shortcut, and only the honest path goes ahead."""
    now = a_minute_ahead()
    with time_machine.travel(now, tick=False) as clock:
        evaluated(therapist_a, prescriber, patient_a)
        refused(channel.book(therapist_a, "preparation", now - timedelta(days=40)), "late_entry_reason_required")
        prep = allowed(channel.book(therapist_a, "preparation", now - timedelta(days=40), reason=LATE))
        allowed(channel.complete(therapist_a, prep.session_id))
        first = allowed(channel.book(therapist_a, "dosing", now - timedelta(days=35), reason=LATE))
        confirm_checklist(therapist_a, TherapySession.objects.get(pk=first.session_id))
        allowed(channel.vitals(therapist_a, first.session_id, "pre_dose"))
        # The dose is taken now: that is when it happened, whatever the booking said.
        allowed(channel.dose(therapist_a, first.session_id))
        assert DosingRecord.objects.get(session_id=first.session_id).dose_taken_at == now
        clock.move_to(now + timedelta(minutes=30))
        allowed(channel.vitals(therapist_a, first.session_id, "end"))
        refused(channel.end(therapist_a, first.session_id), "monitoring_time")

        # An integration booked in the backdated past did not follow the dose: refused.
        refused(
            channel.book(therapist_a, "integration", now - timedelta(days=34), reason=LATE),
            "integration_before_dosing_ended",
        )
        # Neither can a second dose slip in before the first one on the real timeline, nor follow it now.
        refused(channel.book(therapist_a, "dosing", now - timedelta(days=33), reason=LATE), gates.IN_ORDER)
        refused(channel.book(therapist_a, "dosing", now + timedelta(minutes=30)), gates.INTEGRATION)

        # The honest path: monitored 90 minutes, ended, an integration after it, the next dose 72 hours on.
        clock.move_to(now + timedelta(minutes=95))
        allowed(channel.end(therapist_a, first.session_id))
        clock.move_to(now + timedelta(days=1))
        integration = allowed(channel.book(therapist_a, "integration", now + timedelta(days=1)))
        refused(channel.book(therapist_a, "dosing", now + timedelta(days=1, hours=2)), gates.INTEGRATION)
        clock.move_to(now + timedelta(days=1, hours=1))
        allowed(channel.complete(therapist_a, integration.session_id))
        refused(channel.book(therapist_a, "dosing", now + timedelta(days=1, hours=2)), gates.MIN_INTERVAL)
        allowed(channel.book(therapist_a, "dosing", now + timedelta(days=3, hours=1)))
    assert DosingRecord.objects.filter(patient_id=patient_a.pk, dose_taken_at__isnull=False).count() == 1


def test_the_same_afternoon_series_is_refused_at_each_step(channel, therapist_a, prescriber, patient_a):
    """Preparation, dose, integration and the next dose in one afternoon: the monitoring time, the length of a
    session, the integration after the end and the 72 hours each refuse their step."""
    noon = (timezone.now() + timedelta(days=1)).astimezone(PACIFIC).replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon - timedelta(hours=2), tick=False) as clock:
        evaluated(therapist_a, prescriber, patient_a)
        prep = allowed(channel.book(therapist_a, "preparation", noon + timedelta(hours=1)))  # 13:00
        refused(channel.book(therapist_a, "dosing", noon + timedelta(minutes=90)), gates.PREPARATION)
        clock.move_to(noon + timedelta(hours=1, minutes=5))
        refused(channel.complete(therapist_a, prep.session_id), "session_not_over")
        clock.move_to(noon + timedelta(hours=1, minutes=20))
        allowed(channel.complete(therapist_a, prep.session_id))
        dosing = allowed(channel.book(therapist_a, "dosing", noon + timedelta(minutes=90)))  # 13:30
        clock.move_to(noon + timedelta(minutes=95))
        confirm_checklist(therapist_a, TherapySession.objects.get(pk=dosing.session_id))
        allowed(channel.vitals(therapist_a, dosing.session_id, "pre_dose"))
        allowed(channel.dose(therapist_a, dosing.session_id))  # 13:35
        clock.move_to(noon + timedelta(hours=2))
        allowed(channel.vitals(therapist_a, dosing.session_id, "end"))
        ending = refused(channel.end(therapist_a, dosing.session_id), "monitoring_time")  # 14:00
        assert "15:05 PST" in ending.text or "15:05 PDT" in ending.text  # the patient's clock, not UTC
        # An integration booked while the patient is still monitored cannot start.
        refused(
            channel.book(therapist_a, "integration", noon + timedelta(hours=1, minutes=50), reason=LATE),
            "integration_before_dosing_ended",
        )
        clock.move_to(noon + timedelta(hours=3, minutes=10))
        allowed(channel.end(therapist_a, dosing.session_id))  # 15:10
        integration = allowed(channel.book(therapist_a, "integration", noon + timedelta(hours=3, minutes=11)))
        clock.move_to(noon + timedelta(hours=3, minutes=12))  # "completed" a minute after the dose ended
        refused(channel.complete(therapist_a, integration.session_id), "session_not_over")
        clock.move_to(noon + timedelta(hours=4))
        allowed(channel.complete(therapist_a, integration.session_id))
        second = refused(channel.book(therapist_a, "dosing", noon + timedelta(hours=4, minutes=10)), gates.MIN_INTERVAL)
        assert "UTC" not in second.text.split("72 hours between doses")[1][:200]
        allowed(channel.book(therapist_a, "dosing", noon + timedelta(days=3, hours=2)))


def test_times_in_the_future_and_before_the_start_are_refused(channel, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)
    now = a_minute_ahead()
    with time_machine.travel(now, tick=False) as clock:
        booked = allowed(channel.book(therapist_a, "dosing", now + timedelta(minutes=30)))
        confirm_checklist(therapist_a, TherapySession.objects.get(pk=booked.session_id))
        clock.move_to(now + timedelta(minutes=31))
        allowed(channel.vitals(therapist_a, booked.session_id, "pre_dose"))
        before_start = channel.dose(therapist_a, booked.session_id, mg="100.0", taken_at=now + timedelta(minutes=20))
        assert not before_start.ok and before_start.status == 400
        assert "before the session started" in before_start.text
        future = channel.dose(therapist_a, booked.session_id, mg="100.0", taken_at=now + timedelta(hours=2))
        assert not future.ok and "in the future" in future.text
        assert taken(booked.session_id) == 0
        allowed(channel.dose(therapist_a, booked.session_id, mg="100.0"))
        clock.move_to(now + timedelta(hours=3))
        allowed(channel.vitals(therapist_a, booked.session_id, "end"))
        future_end = channel.end(therapist_a, booked.session_id, ended_at=now + timedelta(hours=5))
        assert not future_end.ok and "in the future" in future_end.text
        allowed(channel.end(therapist_a, booked.session_id))


def test_the_monitoring_time_is_the_policys_for_the_route(api, therapist_a, prescriber, patient_a, medical_group):
    CarePolicy.objects.create(medical_group=medical_group, monitoring_minutes_intramuscular=150)
    ready_to_dose(therapist_a, prescriber, patient_a, route="intramuscular", tablet_strength_mg=None)
    client = Api(api, patient_a)
    now = a_minute_ahead()
    with time_machine.travel(now, tick=False) as clock:
        booked = allowed(client.book(therapist_a, "dosing", now))
        confirm_checklist(therapist_a, TherapySession.objects.get(pk=booked.session_id))
        allowed(client.vitals(therapist_a, booked.session_id, "pre_dose"))
        allowed(client.dose(therapist_a, booked.session_id, mg="100.0"))
        clock.move_to(now + timedelta(minutes=140))
        allowed(client.vitals(therapist_a, booked.session_id, "end"))
        early = refused(client.end(therapist_a, booked.session_id), "monitoring_time")
        assert "intramuscular" in early.text and "150 minutes" in early.text
        clock.move_to(now + timedelta(minutes=150))
        allowed(client.end(therapist_a, booked.session_id))


# 2. Late entries are explicit ------------------------------------------------------------------------------


def test_a_late_entry_is_stored_marked_on_the_chart_and_follow_up_and_audited(
    channel, client, therapist_a, prescriber, patient_a
):
    evaluated(therapist_a, prescriber, patient_a)
    two_hours_ago = timezone.now() - timedelta(hours=2)
    refused(channel.book(therapist_a, "preparation", two_hours_ago), "late_entry_reason_required")
    assert not TherapySession.objects.filter(patient=patient_a).exists()
    # Within 15 minutes is not late.
    on_time = allowed(channel.book(therapist_a, "preparation", timezone.now() - timedelta(minutes=10)))
    assert TherapySession.objects.get(pk=on_time.session_id).late_entry is False

    late = allowed(channel.book(therapist_a, "preparation", two_hours_ago, reason=LATE))
    session = TherapySession.objects.get(pk=late.session_id)
    assert (session.late_entry, session.late_entry_reason) == (True, LATE)
    assert AuditEvent.objects.filter(
        object_type="treatment.therapysession", object_id=str(session.pk), action=AuditEvent.Action.CREATE
    ).exists()
    client.force_login(therapist_a)
    chart = html.unescape(client.get(f"/patients/{patient_a.pk}/chart/sessions/").content.decode())
    assert "late entry" in chart
    page = html.unescape(client.get(f"/patients/{patient_a.pk}/sessions/{session.pk}/").content.decode())
    assert "Recorded after the fact" in page and LATE in page


def test_a_late_dose_shows_on_the_prescribers_follow_up(client, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)
    start = timezone.now() - timedelta(days=2)
    session = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=start, reason=LATE
    )
    confirm_checklist(therapist_a, session)
    session_services.vitals_record(actor=therapist_a, session=session, phase="pre_dose", taken_at=start, **IN_RANGE)
    session_services.dose_record(actor=therapist_a, session=session, dose_mg=100, taken_at=start)
    later = start + timedelta(minutes=100)
    session_services.vitals_record(actor=therapist_a, session=session, phase="end", taken_at=later, **IN_RANGE)
    session_services.dosing_end(actor=therapist_a, session=session, criteria=END_CRITERIA, ended_at=later)

    client.force_login(prescriber)
    page = html.unescape(client.get(f"/patients/{patient_a.pk}/follow-up/").content.decode())
    assert "late entry" in page and LATE in page


def test_rescheduling_into_the_past_is_a_late_entry(api, client, therapist_a, prescriber, patient_a):
    evaluated(therapist_a, prescriber, patient_a)
    session = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="preparation", scheduled_at=timezone.now() + timedelta(days=1)
    )
    past = timezone.now() - timedelta(hours=3)
    moved = api.as_user(therapist_a).post(
        f"/api/v1/sessions/{session.pk}/reschedule/",
        {"scheduled_at": past.isoformat(), "reason": "It took place this morning."},
        format="json",
    )
    assert moved.status_code == 409 and moved.json()["code"] == "late_entry_reason_required"
    client.force_login(therapist_a)
    local = past.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M")
    form = {"action": "reschedule", "reschedule-scheduled_at": local, "reschedule-reason": "This morning."}
    page = client.post(f"/patients/{patient_a.pk}/sessions/{session.pk}/", form)
    assert page.status_code == 409 and "late entries are explicit" in html.unescape(page.content.decode())
    assert TherapySession.objects.get(pk=session.pk).late_entry is False

    page = client.post(f"/patients/{patient_a.pk}/sessions/{session.pk}/", {**form, "reschedule-late_entry": "on"})
    assert page.status_code == 302
    stored = TherapySession.objects.get(pk=session.pk)
    assert (stored.late_entry, stored.late_entry_reason) == (True, "This morning.")


# 3. Risk holds the dose -------------------------------------------------------------------------------------


def raise_cssrs_alert(patient, severity=SafetyAlert.Severity.URGENT):
    return patient_services.safety_alert_raise(
        patient=patient,
        kind=SafetyAlert.Kind.CSSRS_RISK,
        reason="C-SSRS screen: high risk.",
        source=patient,
        severity=severity,
    )


def booked_now(therapist, patient, session_start):
    """A dosing session booked when it started, its checklist confirmed and pre-dose vitals in range taken now."""
    with time_machine.travel(session_start, tick=False):
        session = session_services.session_schedule(
            actor=therapist, patient=patient, kind="dosing", scheduled_at=session_start
        )
    confirm_checklist(therapist, session)
    session_services.vitals_record(
        actor=therapist, session=session, phase="pre_dose", taken_at=session_start, **IN_RANGE
    )
    return session


def test_an_open_risk_alert_holds_the_dose_until_the_prescriber_acknowledges(
    channel, therapist_a, prescriber, patient_a
):
    ready_to_dose(therapist_a, prescriber, patient_a)
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=10))
    alert = raise_cssrs_alert(patient_a)

    held = refused(channel.dose(therapist_a, session.pk, mg="100.0"), gates.RISK_HOLD)
    assert "C-SSRS screen: moderate or high risk" in held.text
    raised = timezone.localtime(alert.raised_at, PACIFIC)
    assert f"{raised:%b %-d, %Y %H:%M} {raised.tzname()}" in held.text
    # The therapist's acknowledgement is theirs; the hold waits for the prescriber's.
    patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="Called; safety plan in place.")
    refused(channel.dose(therapist_a, session.pk, mg="100.0"), gates.RISK_HOLD)
    assert taken(session.pk) == 0

    patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Reviewed with her; proceed.")
    allowed(channel.dose(therapist_a, session.pk, mg="100.0"))


def test_a_moderate_alert_does_not_hold(api, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=10))
    raise_cssrs_alert(patient_a, severity=SafetyAlert.Severity.MODERATE)

    allowed(Api(api, patient_a).dose(therapist_a, session.pk, mg="100.0"))


def test_a_booster_is_held_like_a_dose(channel, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a)
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=50))
    session_services.dose_record(
        actor=therapist_a, session=session, dose_mg=100, taken_at=timezone.now() - timedelta(minutes=40)
    )
    alert = raise_cssrs_alert(patient_a, severity=SafetyAlert.Severity.HIGH)

    refused(channel.booster(therapist_a, session.pk), gates.RISK_HOLD)
    patient_services.safety_alert_acknowledge(actor=prescriber, alert=alert, note="Seen; fine to continue.")
    allowed(channel.booster(therapist_a, session.pk))


@pytest.fixture
def prescriber_b(medical_group):
    from kapcare.accounts.models import User
    from tests.fixtures import _staff

    return _staff(User.Role.PRESCRIBER, medical_group, "prescriber.b@example.test")


def test_holding_dose_is_by_role_not_by_person(therapist_a, coordinator, prescriber, prescriber_b, patient_a):
    alert = raise_cssrs_alert(patient_a)
    assert list(SafetyAlert.objects.holding_dose()) == [alert]
    patient_services.safety_alert_acknowledge(actor=therapist_a, alert=alert, note="Called her.")
    assert list(SafetyAlert.objects.holding_dose()) == [alert]
    # The prescriber changes while the alert is open: the hold follows the role, and the new prescriber's
    # acknowledgement releases it.
    patient_services.prescriber_assign(actor=coordinator, patient=patient_a, prescriber=prescriber_b)
    assert list(SafetyAlert.objects.holding_dose()) == [alert]
    patient_services.safety_alert_acknowledge(actor=prescriber_b, alert=alert, note="Covering; reviewed.")
    assert not SafetyAlert.objects.holding_dose().exists()


def test_the_dashboards_say_which_booked_doses_are_held_and_why(
    client, therapist_a, prescriber, coordinator, patient_a
):
    ready_to_dose(therapist_a, prescriber, patient_a)
    booked = session_services.session_schedule(
        actor=therapist_a, patient=patient_a, kind="dosing", scheduled_at=timezone.now() + timedelta(days=2)
    )
    for user in (therapist_a, prescriber):
        client.force_login(user)
        assert "Dosing sessions on hold" not in client.get("/").content.decode()
    raise_cssrs_alert(patient_a)

    for user in (therapist_a, prescriber):
        client.force_login(user)
        page = html.unescape(client.get("/").content.decode())
        assert "Dosing sessions on hold (1)" in page
        assert f"/sessions/{booked.pk}/" in page
        assert "no open risk alert" in page and "C-SSRS" in page
    assert [entry.session for entry in session_selectors.held_dosing_sessions(therapist_a)] == [booked]
    # The coordinator schedules, but the reason names a clinical alert: not on their dashboard.
    client.force_login(coordinator)
    assert "Dosing sessions on hold" not in client.get("/").content.decode()


# 4. Follow-up governs dosing ----------------------------------------------------------------------------------


def test_a_first_plan_authorizes_at_most_six_doses(api, client, prescriber, patient_a):
    from tests.course_states import DOSE_PLAN

    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    response = api.as_user(prescriber).post(
        "/api/v1/dose-plans/", {"patient": str(patient_a.pk), **DOSE_PLAN, "doses_authorized": 7}, format="json"
    )
    assert response.status_code == 201, response.content
    plan_id = response.json()["id"]
    signed = api.as_user(prescriber).post(f"/api/v1/dose-plans/{plan_id}/sign/")
    assert signed.status_code == 409
    assert signed.json()["code"] == gates.FIRST_PLAN_CAP
    assert "at most 6 dosing sessions" in signed.json()["detail"]

    client.force_login(prescriber)
    form = {**DOSE_PLAN, "medication": "ketamine", "doses_authorized": 7}
    form = {key: "on" if value is True else str(value) for key, value in form.items() if value not in (False, "")}
    page = client.post(f"/patients/{patient_a.pk}/dose-plan/", {**form, "action": "sign"})
    assert page.status_code == 409
    assert NAMES[gates.FIRST_PLAN_CAP] in html.unescape(page.content.decode())

    api.as_user(prescriber).patch(f"/api/v1/dose-plans/{plan_id}/", {"doses_authorized": 6}, format="json")
    assert api.as_user(prescriber).post(f"/api/v1/dose-plans/{plan_id}/sign/").status_code == 200


def test_an_overdue_follow_up_holds_further_doses(channel, therapist_a, prescriber, patient_a):
    ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
    pending = FollowUp.objects.pending().get(patient=patient_a)
    # The visit fell due 8 days ago: past the 7 days of grace.
    FollowUp.objects.filter(pk=pending.pk).update(due_on=timezone.localdate() - timedelta(days=8))
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=10))

    held = refused(channel.dose(therapist_a, session.pk, mg="100.0"), gates.FOLLOW_UP_OVERDUE)
    assert "8 days overdue" in held.text
    assert [entry.hold.code for entry in session_selectors.held_dosing_sessions(prescriber)] == [
        gates.FOLLOW_UP_OVERDUE
    ]

    # Within the grace it does not hold.
    FollowUp.objects.filter(pk=pending.pk).update(due_on=timezone.localdate() - timedelta(days=7))
    allowed(channel.dose(therapist_a, session.pk, mg="100.0"))


def test_moving_the_due_date_of_an_overdue_follow_up_does_not_release_the_hold(
    api, client, therapist_a, prescriber, patient_a
):
    """The hold says "no further dose until it is signed": rescheduling the missed visit is not signing it."""
    ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
    pending = FollowUp.objects.pending().get(patient=patient_a)
    FollowUp.objects.filter(pk=pending.pk).update(due_on=timezone.localdate() - timedelta(days=8))
    later = (timezone.localdate() + timedelta(days=30)).isoformat()

    moved = api.as_user(prescriber).patch(f"/api/v1/follow-ups/{pending.pk}/", {"due_on": later}, format="json")
    assert moved.status_code == 409
    assert moved.json()["code"] == gates.FOLLOW_UP_OVERDUE
    client.force_login(prescriber)
    page = client.post(f"/patients/{patient_a.pk}/follow-up/", {"due_on": later, "action": "save"})
    assert page.status_code == 409  # a saved draft redirects
    assert NAMES[gates.FOLLOW_UP_OVERDUE] in html.unescape(page.content.decode())
    pending.refresh_from_db()
    assert pending.due_on == timezone.localdate() - timedelta(days=8)
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=10))
    with pytest.raises(RuleRefused) as held:
        session_services.dose_record(actor=therapist_a, session=session, dose_mg=Decimal("100.0"))
    assert held.value.code == gates.FOLLOW_UP_OVERDUE

    # A visit not yet due is rescheduled as before.
    FollowUp.objects.filter(pk=pending.pk).update(due_on=timezone.localdate() + timedelta(days=1))
    again = api.as_user(prescriber).patch(f"/api/v1/follow-ups/{pending.pk}/", {"due_on": later}, format="json")
    assert again.status_code == 200, again.content


def test_a_rescheduled_dosing_session_needs_its_checklist_and_pre_dose_vitals_again(
    channel, therapist_a, prescriber, patient_a
):
    """Rescheduling instead of booking: the fasting, the ride home and the pre-dose vitals confirmed for the old
    time do not carry over to a dose taken hours later."""
    ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=10))
    new_start = timezone.now() + timedelta(hours=5)
    session_services.session_reschedule(
        actor=therapist_a, session=session, scheduled_at=new_start, reason="The ride home fell through."
    )

    with time_machine.travel(new_start + timedelta(minutes=5), tick=False):
        refused(channel.dose(therapist_a, session.pk, mg="100.0"), gates.CHECKLIST)
        confirm_checklist(therapist_a, session)
        refused(channel.dose(therapist_a, session.pk, mg="100.0"), gates.PRE_DOSE_VITALS)
        allowed(channel.vitals(therapist_a, session.pk, "pre_dose"))
        allowed(channel.dose(therapist_a, session.pk, mg="100.0"))


def test_a_late_dose_needs_pre_dose_vitals_from_shortly_before_it(channel, therapist_a, prescriber, patient_a):
    """A late entry's session started yesterday and its vitals were taken then: a dose recorded as taken now was
    not judged on how the patient is now."""
    ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
    session = booked_now(therapist_a, patient_a, timezone.now() - timedelta(minutes=10))

    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        stale = refused(channel.dose(therapist_a, session.pk, mg="100.0"), gates.PRE_DOSE_VITALS)
        assert "more than 2 hours before" in stale.text
        allowed(channel.vitals(therapist_a, session.pk, "pre_dose"))
        allowed(channel.dose(therapist_a, session.pk, mg="100.0"))


# 5. The smaller items ------------------------------------------------------------------------------------------


def test_same_time_next_sunday_across_the_clock_change_passes_a_weekly_limit_of_one(
    channel, therapist_a, prescriber, patient_a, medical_group
):
    """US clocks spring forward on Sunday March 14, 2027: Sunday 10:00 to Sunday 10:00 is 167 hours, a calendar
    week on the patient's clock."""
    CarePolicy.objects.create(medical_group=medical_group, max_dosing_sessions_per_7_days=1)
    first_start = datetime(2027, 3, 7, 9, 55, tzinfo=PACIFIC)  # the dose is taken at 10:00 PST
    with time_machine.travel(first_start - timedelta(days=1), tick=False) as clock:
        ready_to_dose(therapist_a, prescriber, patient_a, doses_authorized=6)
        clock.move_to(first_start + timedelta(days=2))
        completed_session(therapist_a, patient_a, "dosing", at=first_start)
        completed_session(therapist_a, patient_a, "integration", at=first_start + timedelta(days=1))
        clock.move_to(datetime(2027, 3, 10, 9, 0, tzinfo=PACIFIC))

        nine = refused(
            channel.book(therapist_a, "dosing", datetime(2027, 3, 14, 9, 59, tzinfo=PACIFIC)), gates.WEEKLY_LIMIT
        )
        assert "Mar 14, 2027 09:59 PDT" in nine.text
        allowed(channel.book(therapist_a, "dosing", datetime(2027, 3, 14, 10, 0, tzinfo=PACIFIC)))


def test_the_calendar_week_in_the_busiest_week_count():
    before = datetime(2027, 3, 7, 10, 0, tzinfo=PACIFIC)
    after = datetime(2027, 3, 14, 10, 0, tzinfo=PACIFIC)
    assert after.astimezone(gates.UTC) - before.astimezone(gates.UTC) == timedelta(hours=167)
    assert gates.busiest_week([before], after, PACIFIC) == 1
    assert gates.busiest_week([before], after - timedelta(minutes=1), PACIFIC) == 2
    assert gates.busiest_week([before], after, gates.UTC) == 2  # the rolling 168 hours of UTC would refuse it


def test_mg_per_kg_uses_the_weight_measured_at_the_evaluation(api, client, prescriber, patient_a):
    ready_for_evaluation(patient_a)  # the intake says 80 kg
    signed_evaluation(prescriber, patient_a, weight_kg=Decimal("100.0"))
    signed_dose_plan(prescriber, patient_a)  # 200 mg

    plan = api.as_user(prescriber).get(f"/api/v1/dose-plans/?patient={patient_a.pk}").json()["results"][0]
    assert (plan["weight_kg"], plan["weight_source"], plan["mg_per_kg"]) == ("100.0", "evaluation", "2.00")
    client.force_login(prescriber)
    page = client.get(f"/patients/{patient_a.pk}/dose-plan/").content.decode()
    assert "2.00 mg/kg" in page and "measured at the evaluation" in page


def test_mg_per_kg_falls_back_to_the_intake_and_says_so(prescriber, patient_a):
    ready_for_evaluation(patient_a)  # no weight measured by a prescriber yet

    weight = course_selectors.dosing_weight(patient_a)

    assert (weight.kg, weight.source) == (Decimal("80.0"), "intake")
    assert weight.source_label.startswith("self-reported on the intake")

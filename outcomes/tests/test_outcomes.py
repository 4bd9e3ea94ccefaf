"""Outcomes across the practice and the network (issue 18 point 3, 5): the figures of a small fixed cohort against
values computed by hand (Wilson intervals included), the filters, access, audit, and a fixed number of queries.

The cohort (therapist A's patients, the prescriber on each team; day 0 = 60 days ago; every course starts on day 0):
- P1: referred 10 days before; doses days 10, 17, 24; PHQ-9 20 (day 5) 14 (12) 10 (19) 4 (26); GAD-7 15 (5), 6 (26);
  a mild nausea; discharged "complete" on day 30 (due 31: on time). Notes: dose 1 signed after 2 h, dose 2 after 100.
- P2: referred 20 days before; doses 10, 17; PHQ-9 18 (5) 15 (12) 12 (19); GAD-7 12 (5) 11 (19); a severe
  blood-pressure rise; discharged "discontinue" on day 25 (due 20: late). Note: dose 1 signed after 24 h.
- P3: PHQ-9 16 (5) and no dose; discharged "discontinue" on day 3 (due 3: on time).
- P4: referred 40 days before; dose 10; PHQ-9 10 (5) 5 (12); GAD-7 8 (5) 4 (12); ongoing, its follow-up due on day
  35 still pending (overdue).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kapcare.audit.models import AuditEvent
from outcomes import selectors, stats
from outcomes.filters import Filters
from tests.fixtures import refer
from treatment.models import AdverseEvent, FollowUp, TreatmentCourse

from . import cohort

NAUSEA, BP = AdverseEvent.Kind.NAUSEA, AdverseEvent.Kind.BLOOD_PRESSURE_RISE


@pytest.fixture
def fixed_cohort(therapist_a, prescriber, coordinator):
    team = {"prescriber": prescriber, "coordinator": coordinator}
    p1, p2, p3, p4 = (refer(therapist_a, f"P{n}", "Cohort", f"p{n}@example.test", **team) for n in range(1, 5))
    c1 = cohort.course(p1, therapist=therapist_a, ended=30)
    c2 = cohort.course(p2, therapist=therapist_a, ended=25)
    c3 = cohort.course(p3, therapist=therapist_a, ended=3)
    c4 = cohort.course(p4, therapist=therapist_a)
    doses = {
        c: [cohort.dose(c, therapist=therapist_a, on=on) for on in days]
        for c, days in ((c1, (10, 17, 24)), (c2, (10, 17)), (c4, (10,)))
    }
    for patient, instrument, points in (
        (p1, "phq9", ((5, 20), (12, 14), (19, 10), (26, 4))),
        (p1, "gad7", ((5, 15), (26, 6))),
        (p2, "phq9", ((5, 18), (12, 15), (19, 12))),
        (p2, "gad7", ((5, 12), (19, 11))),
        (p3, "phq9", ((5, 16),)),
        (p4, "phq9", ((5, 10), (12, 5))),
        (p4, "gad7", ((5, 8), (12, 4))),
    ):
        for on, total in points:
            cohort.score(patient, instrument, total, on=on)
    cohort.adverse_event(c1, reporter=therapist_a, kind=NAUSEA, severity="mild")
    cohort.adverse_event(c2, reporter=therapist_a, kind=BP, severity="severe")
    complete, discontinue = FollowUp.Decision.COMPLETE, FollowUp.Decision.DISCONTINUE
    cohort.follow_up(c1, prescriber=prescriber, due=31, signed=30, decision=complete)
    cohort.follow_up(c2, prescriber=prescriber, due=20, signed=25, decision=discontinue)
    cohort.follow_up(c3, prescriber=prescriber, due=3, signed=3, decision=discontinue)
    cohort.follow_up(c4, prescriber=prescriber, due=35)
    cohort.note(doses[c1][0], therapist=therapist_a, signed_after_hours=2)
    cohort.note(doses[c1][1], therapist=therapist_a, signed_after_hours=100)
    cohort.note(doses[c2][0], therapist=therapist_a, signed_after_hours=24)
    cohort.note(doses[c4][0], therapist=therapist_a)  # a draft
    for patient, days in ((p1, 10), (p2, 20), (p4, 40)):
        cohort.referred(patient, days_before_start=days)
    return [p1, p2, p3, p4]


def test_wilson_interval_matches_the_textbook_values():
    assert stats.wilson(0, 0) is None
    low, high = stats.wilson(2, 3)
    assert (round(low, 4), round(high, 4)) == (0.2077, 0.9385)
    low, high = stats.wilson(1, 3)
    assert (round(low, 4), round(high, 4)) == (0.0615, 0.7923)
    low, high = stats.wilson(10, 10)
    assert (round(low, 4), round(high, 4)) == (0.7225, 1.0)


def test_the_figures_of_the_fixed_cohort_are_the_hand_computed_ones(fixed_cohort, coordinator):
    report = selectors.outcomes_report(coordinator, Filters())

    courses = report.courses
    assert (courses.started, courses.ongoing, courses.completed, courses.discontinued) == (4, 1, 1, 2)
    assert dict(courses.reasons) == {
        "After an adverse event (moderate or severe)": 1,
        "Before the first dose": 1,
        "Another clinical decision": 0,
    }
    assert courses.rates == {"completed": 25.0, "discontinued": 50.0}

    change = {(row.instrument, row.doses): (row.patients, row.mean_score, row.mean_change) for row in report.change}
    assert change == {
        # P3 took no dose, so has no course baseline (the last score before the first dose)
        ("phq9", 0): (3, 16.0, 0),
        ("phq9", 1): (3, 11.3, -4.7),  # 14, 15, 5 against 20, 18, 10
        ("phq9", 2): (2, 11.0, -8.0),  # 10, 12 against 20, 18
        ("phq9", 3): (1, 4.0, -16.0),
        ("gad7", 0): (3, 11.7, 0),
        ("gad7", 1): (1, 4.0, -4.0),
        ("gad7", 2): (1, 11.0, -1.0),
        ("gad7", 3): (1, 6.0, -9.0),
    }

    phq9, gad7 = report.outcomes
    # PHQ-9 latest against baseline: P1 4/20 (response, remission), P2 12/18 (neither), P4 5/10 (response: a 50% fall;
    # not remission: 5 is not under 5).
    assert (phq9.response.count, phq9.response.total, phq9.response.percent) == (2, 3, 66.7)
    assert phq9.response.interval == (20.8, 93.9)
    assert (phq9.remission.count, phq9.remission.total, phq9.remission.interval) == (1, 3, (6.1, 79.2))
    # GAD-7: the instruments file defines remission (under 5) only: P4's 4.
    assert gad7.response.count is None and gad7.response.interval is None
    assert (gad7.remission.count, gad7.remission.total) == (1, 3)

    events = report.adverse_events
    assert events.dosing_sessions == 6
    assert sorted(events.rows) == [
        ("Blood-pressure rise", "Severe", 1, 1, 16.7),
        ("Nausea", "Mild", 1, 1, 16.7),
    ]

    # Referral to first dose (day 10): 20, 30 and 50 days; P3 has none.
    delay = report.referral_delay
    assert (delay.patients, delay.q1, delay.median, delay.q3) == (3, 25.0, 30.0, 40.0)

    t = report.timeliness
    assert (t.follow_ups_signed, t.follow_ups_on_time, t.follow_ups_overdue) == (3, 2, 1)
    # Six completed dosing sessions: notes signed after 2 h (on time), 100 h (late), 24 h (on time); one draft.
    assert (t.sessions_completed, t.notes_signed, t.notes_on_time, t.median_hours_to_sign) == (6, 3, 2, 24.0)


def test_filters_narrow_the_cohort(fixed_cohort, coordinator, therapist_b, practice_a, practice_b, prescriber):
    p1 = fixed_cohort[0]
    TreatmentCourse.objects.filter(patient=p1).update(started_at=cohort.day(-100))
    p1.referral.reasons = ["anxiety"]
    p1.referral.save(update_fields=["reasons"])
    day0 = cohort.day(0).date()

    def started(**chosen):
        return selectors.outcomes_report(coordinator, Filters(**chosen)).courses.started

    assert started() == 4
    assert started(start=day0) == 3
    assert started(end=day0 - timedelta(days=1)) == 1
    assert started(reason="anxiety") == 1
    assert started(practice=practice_a) == 4
    assert started(practice=practice_b) == 0
    assert started(clinician=prescriber) == 4
    assert started(clinician=therapist_b) == 0


def test_a_clinician_sees_only_their_own_patients_figures(fixed_cohort, therapist_a, therapist_b, prescriber, client):
    assert selectors.outcomes_report(therapist_a, Filters()).courses.started == 4
    assert selectors.outcomes_report(therapist_b, Filters()).courses.started == 0
    client.force_login(therapist_b)
    page = client.get(reverse("outcomes:outcomes"))
    assert page.status_code == 200
    assert page.context["report"].courses.started == 0
    assert page.context["report"].adverse_events.rows == []
    # Another clinician as a filter is not theirs to choose.
    other = client.get(reverse("outcomes:outcomes"), {"clinician": prescriber.pk})
    assert other.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"from": "yesterday"},
        {"from": "2026-05-01", "to": "2026-01-01"},
        {"practice": "not-a-uuid"},
        {"practice": "5b2b5f1e-0000-4000-8000-000000000000"},
        {"clinician": "999999"},
        {"reason": "boredom"},
        {"period": "all"},
        {"from": "1900-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_filters_are_a_400_naming_them(coordinator, client, api, query):
    client.force_login(coordinator)
    page = client.get(reverse("outcomes:outcomes"), query)
    assert page.status_code == 400
    assert page.context["errors"]
    api.force_authenticate(coordinator)
    response = api.get("/api/v1/outcomes/", query)
    assert response.status_code == 400
    assert response.json()["filters"]


def test_the_page_and_the_api_show_the_figures_and_are_audited(fixed_cohort, coordinator, client, api):
    client.force_login(coordinator)
    before = AuditEvent.objects.filter(object_type="outcomes.report").count()
    page = client.get(reverse("outcomes:outcomes"), {"from": "2020-01-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "20.8–93.9%" in html and "Median 30.0 days (IQR 25.0–40.0)" in html
    assert "Cohort" not in html  # figures, never a patient's name
    api.force_authenticate(coordinator)
    data = api.get("/api/v1/outcomes/").json()
    assert data["courses"]["started"] == 4
    assert data["outcomes"][0]["response"]["interval_95"] == [20.8, 93.9]
    events = AuditEvent.objects.filter(object_type="outcomes.report").order_by("id")
    assert events.count() == before + 2
    assert events.first().detail == {"filters": {"from": "2020-01-01"}} and events.first().actor == coordinator


def test_patients_and_administrators_are_refused(cast, client, api):
    for name in ("patient", "admin"):
        client.force_login(cast[name])
        assert client.get(reverse("outcomes:outcomes")).status_code == 403
        api.force_authenticate(cast[name])
        assert api.get("/api/v1/outcomes/").status_code == 403
    denied = AuditEvent.objects.filter(object_type="outcomes.report", outcome=AuditEvent.Outcome.DENIED)
    assert denied.count() == 4
    client.logout()
    assert client.get(reverse("outcomes:outcomes")).status_code == 302


@pytest.mark.parametrize("viewer", ["coordinator", "therapist_a"])
def test_the_outcomes_page_runs_the_same_queries_for_1_50_and_200_patients(viewer, request, medical_group, client):
    therapist, user = request.getfixturevalue("therapist_a"), request.getfixturevalue(viewer)
    client.force_login(user)
    url = reverse("outcomes:outcomes")
    client.get(url)  # warm the session and the caches
    counts = []
    for total in (1, 50, 200):
        already = TreatmentCourse.objects.count()
        cohort.many_patients(total - already, therapist=therapist, medical_group=medical_group, prefix=f"n{total}")
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url, {"reason": "trd"})
        assert page.status_code == 200
        assert page.context["report"].courses.started == total
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts

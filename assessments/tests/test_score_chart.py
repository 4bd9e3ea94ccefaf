"""Scores over time (issue 6, point 5): an SVG per instrument with the severity bands shaded, the dosing sessions
on the time axis, the course baseline, response (a fall of 50% or more from it) and remission (PHQ-9 below 5),
a table beside it; baselines reset per course; a fixed number of queries for 0, 1 and 50 responses."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments import instruments
from assessments.models import QuestionnaireResponse
from assessments.questionnaires.services import questionnaire_submit
from assessments.score_chart import Marker, Series, render_svg
from kapcare.audit.models import AuditEvent
from tests import course_states
from treatment.measurement import selectors as measurement_selectors
from treatment.models import TherapySession

PHQ9 = instruments.get("phq9")


def phq9_answers(total):
    answers = []
    for _ in range(8):
        answers.append(min(3, total))
        total -= answers[-1]
    return [*answers, 0]


def response(at, total, code="phq9"):
    return SimpleNamespace(
        submitted_at=at,
        total_score=total,
        severity=PHQ9.severity(total),
        on_behalf=False,
        entered_by="",
        instrument=code,
    )


T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def day(n):
    return T0 + timedelta(days=n)


def test_response_and_remission_are_judged_against_each_courses_baseline():
    """Course 1 runs to day 40; course 2 opens on day 60. Each baseline is the last response before its first
    dose; the second course's 12 would be a response against the first baseline (20) but not against its own."""
    courses = [SimpleNamespace(ended_at=day(40)), SimpleNamespace(ended_at=None)]
    windows = measurement_selectors._windows(courses)
    rows = [response(day(0), 18), response(day(2), 20), response(day(20), 10), response(day(30), 4)]
    rows += [response(day(61), 16), response(day(65), 12), response(day(80), 8)]
    first_doses = {1: day(5), 2: day(62)}

    points = measurement_selectors._points(PHQ9, rows, windows, first_doses)

    table = [(p.total, p.course, p.is_baseline, p.response, p.remission, p.change_percent) for p in points]
    assert table == [
        (18, 1, False, None, None, None),  # before the baseline
        (20, 1, True, None, None, None),  # the last response before the first dose
        (10, 1, False, True, False, 50),  # exactly half: a response
        (4, 1, False, True, True, 80),  # below 5: remission
        (16, 2, True, None, None, None),  # the baseline resets with the new course
        (12, 2, False, False, False, 25),
        (8, 2, False, True, False, 50),
    ]


def test_without_a_response_before_the_first_dose_the_first_response_is_the_baseline():
    windows = measurement_selectors._windows([SimpleNamespace(ended_at=None)])
    points = measurement_selectors._points(PHQ9, [response(day(10), 15), response(day(20), 7)], windows, {1: day(5)})
    assert [(p.is_baseline, p.response) for p in points] == [(True, None), (False, True)]


def test_the_svg_shades_every_band_and_marks_doses_baseline_and_outcomes():
    windows = measurement_selectors._windows([SimpleNamespace(ended_at=None)])
    rows = [response(day(0), 20), response(day(10), 9), response(day(20), 3)]
    series = Series(
        PHQ9,
        points=measurement_selectors._points(PHQ9, rows, windows, {1: day(3)}),
        doses=[Marker(day(3), "D1"), Marker(day(13), "D2")],
    )

    svg = str(render_svg(series, element_id="chart-phq9"))

    assert (
        svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="chart-phq9-title chart-phq9-desc"' in svg
    )
    assert svg.count("<rect") == len(PHQ9.bands) + 1  # a shaded band each, and the baseline's square
    for band in PHQ9.bands:
        assert f">{band.label}</text>" in svg
    assert ">D1</text>" in svg and ">D2</text>" in svg
    assert ">baseline</text>" in svg
    assert ">response</text>" in svg and ">response + remission</text>" in svg
    assert ">remission below 5</text>" in svg and ">response: 10 or less</text>" in svg
    assert "style=" not in svg  # the CSP forbids inline styles


def test_an_empty_chart_still_renders_its_bands():
    svg = str(render_svg(Series(PHQ9), element_id="empty"))
    assert "No PHQ-9 responses yet." in svg and svg.count("<rect") == len(PHQ9.bands)


# Through the database and the pages.


@pytest.fixture
def dosed(patient_a, therapist_a, prescriber, patient):
    """Avery answered a PHQ-9 of 20 before the first dose (8 days ago), then 9 after it."""
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    with time_machine.travel(timezone.now() - timedelta(days=9)):
        questionnaire_submit(actor=patient, patient=patient_a, instrument="phq9", answers=phq9_answers(20))
    course_states.completed_session(
        therapist_a, patient_a, TherapySession.Kind.DOSING, at=timezone.now() - timedelta(days=8)
    )
    questionnaire_submit(actor=patient, patient=patient_a, instrument="phq9", answers=phq9_answers(9))
    return patient_a


@pytest.mark.django_db
def test_the_chart_shows_the_scores_against_the_dosing_sessions(client, dosed, therapist_a):
    client.force_login(therapist_a)
    page = client.get(f"/patients/{dosed.pk}/chart/measures/").content.decode()

    assert "Scores over time" in page and '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert ">D1</text>" in page
    table = page[page.index('<table class="score-table"') :]
    table = table[: table.index("</table>")]
    assert re.search(r"<td>20</td>\s*<td>severe</td>\s*<td>baseline", table)
    assert re.search(r"<td>9</td>\s*<td>mild</td>\s*<td>−55%</td>\s*<td>response</td>", table)
    assert (
        AuditEvent.objects.filter(
            actor=therapist_a, action=AuditEvent.Action.READ, object_type="assessments.questionnaireresponse"
        ).count()
        == 2
    )


@pytest.mark.django_db
def test_the_patient_sees_their_own_progress_in_plain_words(client, dosed, patient, coordinator):
    client.force_login(patient)
    page = client.get("/progress/").content.decode()
    assert "Latest: <strong>9</strong> (mild)" in page
    assert "At the start of this course it was 20: down 55%." in page
    assert "That is a fall of at least half since the start." in page
    client.force_login(coordinator)
    assert "Scores over time" not in client.get(f"/patients/{dosed.pk}/").content.decode()  # no scores
    assert client.get("/progress/").status_code == 403


def make_responses(patient_record, user, count):
    start = timezone.now() - timedelta(days=count + 1)
    QuestionnaireResponse.objects.bulk_create(
        QuestionnaireResponse(
            patient=patient_record,
            instrument="phq9" if n % 2 else "gad7",
            answers=[1] * (9 if n % 2 else 7),
            total_score=9 if n % 2 else 7,
            severity="mild",
            entered_by=user,
            submitted_at=start + timedelta(days=n),
        )
        for n in range(count)
    )


# The history itself: courses, dosing sessions, responses (with who entered them) and the referral's reasons.
HISTORY_QUERIES = 4


@pytest.mark.django_db
@pytest.mark.parametrize("count", [0, 1, 50])
def test_the_history_costs_a_fixed_number_of_queries(patient_a, therapist_a, prescriber, patient, count):
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    course_states.completed_session(therapist_a, patient_a, TherapySession.Kind.DOSING)
    make_responses(patient_a, patient, count)
    patient_record = type(patient_a).objects.get(pk=patient_a.pk)

    with CaptureQueriesContext(connection) as captured:
        history = measurement_selectors.score_history(therapist_a, patient_record)
        charts = [str(render_svg(series, element_id=series.instrument.code)) for series in history.series]

    assert len(captured) == HISTORY_QUERIES
    assert sum(len(series.points) for series in history.series) == count
    assert len(charts) == 2 and all(">D1</text>" in chart for chart in charts)


def chart_page_queries(client, patient_record):
    url = f"/patients/{patient_record.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_chart_page_costs_the_same_for_1_and_50_responses(client, patient_a, therapist_a, prescriber, patient):
    course_states.ready_to_dose(therapist_a, prescriber, patient_a)
    client.force_login(therapist_a)
    none = chart_page_queries(client, patient_a)
    make_responses(patient_a, patient, 1)
    one = chart_page_queries(client, patient_a)
    make_responses(patient_a, patient, 49)
    fifty = chart_page_queries(client, patient_a)

    assert one == fifty == none + 1  # the audit INSERT of the responses read, one for the whole list


@pytest.mark.django_db
def test_the_follow_up_note_reads_the_scores_since_the_baseline(dosed):
    from treatment.course import selectors as course_selectors

    lines = course_selectors.scores_since_baseline(dosed)

    assert len(lines) == 1 and lines[0].startswith("PHQ-9: baseline 20 (")
    assert lines[0].endswith(", -55%: response.")


# Issue 16, point 5: charts that read well.


def text_positions(svg, content):
    return [
        (float(x), float(y))
        for x, y in re.findall(rf'<text x="([\d.]+)" y="([\d.]+)"[^>]*>{re.escape(content)}</text>', svg)
    ]


def test_responses_on_the_same_day_do_not_overlap_their_labels():
    windows = measurement_selectors._windows([SimpleNamespace(ended_at=None)])
    rows = [response(day(0), 20), response(day(10), 9), response(day(10) + timedelta(hours=2), 9)]
    rows += [response(day(10) + timedelta(hours=4), 9)]
    series = Series(PHQ9, points=measurement_selectors._points(PHQ9, rows, windows, {1: day(3)}))

    labels = text_positions(str(render_svg(series, element_id="same-day")), "response")

    assert len(labels) == 3
    assert len({round(y) for _x, y in labels}) == 3  # each on its own line


def test_the_time_axis_ticks_whole_days_mondays_or_months():
    from assessments.score_chart import time_ticks

    week = time_ticks(day(0), day(6))
    assert [label for _m, label in week] == ["Jan 2", "Jan 3", "Jan 4", "Jan 5", "Jan 6", "Jan 7"]
    weeks = time_ticks(day(0), day(40))
    assert all(moment.weekday() == 0 for moment, _l in weeks) and 4 <= len(weeks) <= 7
    months = time_ticks(day(0), day(200))
    assert [label for _m, label in months][:3] == ["Feb", "Mar", "Apr"] and len(months) <= 7


def test_the_chart_has_a_legend_for_doses_baseline_response_and_remission():
    windows = measurement_selectors._windows([SimpleNamespace(ended_at=None)])
    rows = [response(day(0), 20), response(day(10), 9)]
    series = Series(
        PHQ9, points=measurement_selectors._points(PHQ9, rows, windows, {1: day(3)}), doses=[Marker(day(3), "D1")]
    )

    svg = str(render_svg(series, element_id="legend"))

    for entry in ("dosing session", "course baseline", "response (50% fall)", "remission"):
        assert f">{entry}</text>" in svg, entry
    assert ">response (50% fall)</text>" not in str(render_svg(series, element_id="simple", simple=True))

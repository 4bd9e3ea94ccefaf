"""messaging.dashboards.lines writes the dashboard's long rows in Python: each must be byte for byte what the
template it replaced wrote (kept here), for the values that take each branch, and escape what a user typed."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils.safestring import mark_safe

from assessments.models import ScreeningFlag, Severity
from kapcare.accounts.models import User
from messaging.dashboards import lines
from messaging.dashboards.due_selectors import WorkItem
from messaging.selectors import Unread
from patients.models import DueItem, Patient, Stage
from treatment.adverse_events.models import AdverseEvent
from treatment.course.models import DosePlan, FollowUp
from treatment.sessions.models import TherapySession
from treatment.sessions.selectors import UpcomingSession

# The loop bodies of the templates before messaging.dashboards.lines (templates/messaging/dashboards/).
UPCOMING_SESSION = """{% load tz id_urls %}{% with s=entry.session %}
      <a href="{% id_url 'treatment:patient-session' s.patient.id s.id %}"><strong>{{ s.patient.last_name }}, {{ s.patient.first_name }}</strong></a>
      · {{ s.get_kind_display }} {{ s.scheduled_at|timezone:s.patient.time_zone|date:"D M j, H:i" }} <span class="muted">({{ s.patient.time_zone }})</span> · {{ s.get_modality_display|lower }}
      {% if show_checklist_state and entry.items_required %}· checklist {% if entry.checklist_complete %}<span class="muted">confirmed</span>{% else %}<span class="overdue">{{ entry.items_confirmed }} of {{ entry.items_required }} confirmed</span>{% endif %}{% endif %}{% endwith %}"""  # noqa: E501
CURRENT_PLAN = """{% load id_urls %}
      <a href="{% id_url 'dashboards:patient-chart' plan.patient.id %}"><strong>{{ plan.patient.last_name }}, {{ plan.patient.first_name }}</strong></a>
      · version {{ plan.version }}: {{ plan.full_dose_mg }} mg {{ plan.get_route_display|lower }} ({{ plan.get_start_at_display|lower }}){% if plan.boosters_allowed %}; up to {{ plan.booster_count }} booster{{ plan.booster_count|pluralize }} of {{ plan.booster_mg }} mg after {{ plan.booster_min_minutes }} min{% else %}; no boosters{% endif %}; {{ plan.doses_authorized }} dosing session{{ plan.doses_authorized|pluralize }} authorized{% if plan.benzodiazepine_hold %}; benzodiazepine hold{% endif %}"""  # noqa: E501
SIDE_EFFECT = """{% load id_urls %}
      <strong>{{ event.get_severity_display }}</strong> {{ event.get_kind_display|lower }} ·
      <a href="{% id_url 'dashboards:patient-chart' event.patient.id %}">{{ event.patient.last_name }}, {{ event.patient.first_name }}</a>
      <span class="muted">{{ event.reported_at|date:"M j, H:i" }}, reported by {{ event.reported_by }}{% if event.onset_minutes is not None %}; {{ event.onset_minutes }} min after the dose{% endif %}; action: {{ event.get_action_taken_display|lower }}</span>"""  # noqa: E501
PATIENT_ROW = """
    <tr>
      <th scope="row"><a href="{{ patient.urls.chart }}">{{ patient.last_name }}, {{ patient.first_name }}</a></th>
      <td data-label="Born">{{ patient.born }}</td>
      <td data-label="State">{{ patient.state }}</td>
      <td data-label="Stage"><span class="stage stage-{{ patient.stage }}">{{ patient.get_stage_display }}</span></td>
      <td data-label="Next">
        {% if patient.waiting_for %}<span class="missing">{{ patient.waiting_for }}</span>{% endif %}
        {% if show_flags and patient.screening_flags %}{% include "assessments/_flag_list.html" with flags=patient.screening_flags %}{% endif %}{# an include only for the few rows with flags #}
      </td>
      <td data-label="Care team">{{ patient.team }}</td>
      <td data-label="Messages">{% with unread=patient.unread %}{% if unread %}<a href="{% if unread.care_team %}{{ patient.urls.care_team_thread }}{% else %}{{ patient.urls.patient_thread }}{% endif %}" class="unread-messages"><span class="badge new">{{ unread.total }} unread</span></a>{% elif user.role != "coordinator" %}<a href="{{ patient.urls.care_team_thread }}">Messages</a>{% endif %}{% endwith %}</td>
    </tr>"""  # noqa: E501

FOLLOW_UP_DUE = """{% load id_urls %}
      <a href="{% id_url 'treatment:patient-follow-up' entry.patient.id %}"><strong>{{ entry.patient.last_name }}, {{ entry.patient.first_name }}</strong></a>
      · due {{ entry.due_on|date:"M j, Y" }}
      {% if entry.days_overdue %}<span class="overdue">{{ entry.days_overdue }} day{{ entry.days_overdue|pluralize }} overdue</span>{% elif entry.days_until %}<span class="muted">in {{ entry.days_until }} day{{ entry.days_until|pluralize }}</span>{% else %}<span class="muted">today</span>{% endif %}"""  # noqa: E501
PLAN_ENDING = """{% load id_urls %}
      <a href="{% id_url 'treatment:patient-follow-up' entry.patient.id %}"><strong>{{ entry.patient.last_name }}, {{ entry.patient.first_name }}</strong></a>
      · {{ entry.detail }}"""  # noqa: E501
FOLLOW_UP_BOOKING = """{% load tz id_urls %}<a href="{% id_url 'treatment:patient-visits' entry.patient.id %}"><strong>{{ entry.patient.last_name }}, {{ entry.patient.first_name }}</strong></a>
      {% if entry.booked_at %}· booked {{ entry.booked_at|timezone:entry.patient.time_zone|date:"D M j, g:i A T" }}
      {% else %}· <span class="overdue">not booked</span>, book by {{ entry.due_on|date:"M j" }}{% endif %}"""  # noqa: E501

TYPED = '<b>O\'Neil & "Sons"</b>'  # what a careless or hostile user may type into a name


INDENT = "\n      "  # where each template's <li> began its line


def template(source, **context):
    return Template(source).render(Context(context))


def patient(**changes):
    return Patient(
        **{"first_name": TYPED, "last_name": "Ávila-Núñez", "time_zone": "America/Los_Angeles", "state": "CA"} | changes
    )


AT = datetime(2026, 12, 8, 17, 5, tzinfo=UTC)


@pytest.mark.parametrize(("required", "confirmed", "show"), [(4, 2, True), (4, 4, True), (4, 1, False), (0, 0, True)])
@pytest.mark.parametrize("kind", [TherapySession.Kind.DOSING, TherapySession.Kind.INTEGRATION])
def test_an_upcoming_session_line_is_the_templates(required, confirmed, show, kind):
    session = TherapySession(patient=patient(), kind=kind, modality=TherapySession.Modality.REMOTE, scheduled_at=AT)
    entry = UpcomingSession(session, required, confirmed)

    [line] = lines.upcoming_session_lines([entry], show_checklist_state=show)

    assert INDENT + line == template(UPCOMING_SESSION, entry=entry, show_checklist_state=show)
    assert "Tue Dec 8, 09:05" in line and "&lt;b&gt;O&#x27;Neil &amp; &quot;Sons&quot;&lt;/b&gt;" in line


@pytest.mark.parametrize(
    "changes",
    [
        {"boosters_allowed": True, "booster_count": 2, "booster_mg": Decimal("25.5"), "booster_min_minutes": 20},
        {"boosters_allowed": True, "booster_count": 1, "booster_mg": Decimal("10"), "booster_min_minutes": 15},
        {"boosters_allowed": False, "doses_authorized": 1, "benzodiazepine_hold": True},
    ],
)
def test_a_current_plan_line_is_the_templates(changes):
    plan = DosePlan(
        patient=patient(),
        version=3,
        full_dose_mg=Decimal("200.00"),
        route=DosePlan.Route.TROCHE,
        start_at=DosePlan.Start.HALF,
        **{"doses_authorized": 6} | changes,
    )

    [line] = lines.current_plan_lines([plan])

    assert INDENT + line == template(CURRENT_PLAN, plan=plan)


@pytest.mark.parametrize("onset", [None, 0, 45])
def test_a_side_effect_line_is_the_templates(onset, settings):
    settings.TIME_ZONE = "America/New_York"  # the engine shows the time in the current zone
    reporter = User(first_name=TYPED, last_name="Reed", email="reed@example.test", role=User.Role.THERAPIST)
    event = AdverseEvent(
        patient=patient(),
        kind=AdverseEvent.Kind.BLOOD_PRESSURE_RISE,
        severity=AdverseEvent.Severity.MODERATE,
        action_taken=AdverseEvent.Action.MEDICATION_GIVEN,
        reported_at=AT,
        reported_by=reporter,
        onset_minutes=onset,
    )

    [line] = lines.side_effect_lines([event])

    assert INDENT + line == template(SIDE_EFFECT, event=event)


ROWS = [
    {"unread": Unread(care_team=2, patient=1), "waiting_for": "Consent to treatment", "flags": True},
    {"unread": Unread(care_team=0, patient=3), "waiting_for": "", "flags": False},
    {"unread": None, "waiting_for": TYPED, "flags": True},
]


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("role", [User.Role.PRESCRIBER, User.Role.COORDINATOR])
def test_a_patient_row_is_the_templates(row, role):
    user = User(role=role)
    shown = patient(stage=Stage.DOSING, date_of_birth=None)
    shown.urls = {"chart": "/patients/1/", "care_team_thread": "/patients/1/team/", "patient_thread": "/patients/1/p/"}
    shown.born = "Feb 3, 1990"
    shown.team = mark_safe('Sam Rivera <span class="muted">(therapist)</span>')
    shown.unread = row["unread"]
    shown.waiting_for = row["waiting_for"]
    show_flags = row["flags"] and role != User.Role.COORDINATOR
    flags = [
        ScreeningFlag(severity=Severity.ABSOLUTE, reason="Uncontrolled hypertension <180/110>"),
        ScreeningFlag(severity=Severity.RELATIVE, reason="Age over 65"),
    ]
    shown.screening_flags = flags if show_flags else []  # as annotate_dashboard_page leaves them

    [line] = lines.patient_rows([shown], user=user)

    assert "\n    " + line == template(PATIENT_ROW, patient=shown, user=user, show_flags=show_flags)


@pytest.mark.parametrize("due_on", [date(2026, 12, 1), date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9)])
def test_a_follow_up_due_line_and_a_plan_ending_line_are_the_templates(due_on):
    row = DueItem(patient=patient(), due_on=due_on, detail=f"version 2: 1 of 6 dosing sessions left · {TYPED}")
    entry = WorkItem(row, today=date(2026, 12, 8))

    [follow_up] = lines.follow_up_due_lines([entry])
    [plan] = lines.plan_ending_lines([entry])

    assert INDENT + follow_up == template(FOLLOW_UP_DUE, entry=entry)
    assert INDENT + plan == template(PLAN_ENDING, entry=entry)


@pytest.mark.parametrize("booked_at", [None, AT])
def test_a_follow_up_booking_line_is_the_templates(booked_at):
    follow_up = FollowUp(patient=patient(), due_on=date(2027, 1, 4))
    follow_up.booked_at = booked_at

    [line] = lines.follow_up_booking_lines([follow_up])

    assert line == template(FOLLOW_UP_BOOKING, entry=follow_up)

"""The dashboard's longest repeated rows, written once per row in Python (`format_html`, the filters the templates
used) rather than value by value through the template engine: the patient table, the upcoming sessions, current dose
plans and recent side effects, the follow-ups due and booked, and the dose plans nearing exhaustion. A clinician's
dashboard renders about 450 values, and the engine's cost per value (lookup, filter, escape) was about half of the
page's time. The HTML is the templates' own, byte for byte
(messaging/tests/test_dashboard_lines.py renders both and compares them)."""

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.templatetags.tz import do_timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from kapcare.accounts.models import User
from kapcare.accounts.templatetags.id_urls import id_url


def _date(value, format_string):
    """`{{ value|date:format_string }}`: the engine converts the time to the current zone first."""
    return date_filter(template_localtime(value), format_string)


def upcoming_session_lines(entries, *, show_checklist_state):
    """The body of each `<li>` of the upcoming sessions (treatment.sessions.selectors.UpcomingSession list)."""
    return [_upcoming_session(entry, show_checklist_state) for entry in entries]


def _upcoming_session(entry, show_checklist_state):
    session = entry.session
    patient = session.patient
    checklist = ""
    if show_checklist_state and entry.items_required:
        if entry.checklist_complete:
            state = mark_safe('<span class="muted">confirmed</span>')
        else:
            state = format_html(
                '<span class="overdue">{} of {} confirmed</span>',
                localize(entry.items_confirmed),
                localize(entry.items_required),
            )
        checklist = format_html("· checklist {}", state)
    return format_html(
        '<a href="{}"><strong>{}, {}</strong></a>\n      · {} {} <span class="muted">({})</span> · {}\n      {}',
        id_url("treatment:patient-session", patient.id, session.id),
        patient.last_name,
        patient.first_name,
        session.get_kind_display(),
        _date(do_timezone(session.scheduled_at, patient.time_zone), "D M j, H:i"),
        patient.time_zone,
        session.get_modality_display().lower(),
        checklist,
    )


def current_plan_lines(plans):
    """The body of each `<li>` of the current dose plans (DosePlan list, patient loaded)."""
    return [_current_plan(plan) for plan in plans]


def _current_plan(plan):
    if plan.boosters_allowed:
        boosters = format_html(
            "; up to {} booster{} of {} mg after {} min",
            localize(plan.booster_count),
            pluralize(plan.booster_count),
            localize(plan.booster_mg),
            localize(plan.booster_min_minutes),
        )
    else:
        boosters = "; no boosters"
    return format_html(
        '<a href="{}"><strong>{}, {}</strong></a>\n'
        "      · version {}: {} mg {} ({}){}; {} dosing session{} authorized{}",
        id_url("dashboards:patient-chart", plan.patient.id),
        plan.patient.last_name,
        plan.patient.first_name,
        localize(plan.version),
        localize(plan.full_dose_mg),
        plan.get_route_display().lower(),
        plan.get_start_at_display().lower(),
        boosters,
        localize(plan.doses_authorized),
        pluralize(plan.doses_authorized),
        "; benzodiazepine hold" if plan.benzodiazepine_hold else "",
    )


def side_effect_lines(events):
    """The body of each `<li>` of the recent side effects (AdverseEvent list, patient and reporter loaded)."""
    return [_side_effect(event) for event in events]


def _side_effect(event):
    onset = "" if event.onset_minutes is None else format_html("; {} min after the dose", localize(event.onset_minutes))
    return format_html(
        "<strong>{}</strong> {} ·\n"
        '      <a href="{}">{}, {}</a>\n'
        '      <span class="muted">{}, reported by {}{}; action: {}</span>',
        event.get_severity_display(),
        event.get_kind_display().lower(),
        id_url("dashboards:patient-chart", event.patient.id),
        event.patient.last_name,
        event.patient.first_name,
        _date(event.reported_at, "M j, H:i"),
        event.reported_by,
        onset,
        event.get_action_taken_display().lower(),
    )


def patient_rows(patients, *, user):
    """Each `<tr>` of the patient table, from annotate_dashboard_page's patients (whose `screening_flags` it left
    empty for a user who may not see flags)."""
    return [_patient_row(patient, user) for patient in patients]


def _patient_row(patient, user):
    flags = ""
    if patient.screening_flags:  # the template of the few rows with flags
        flags = render_to_string("assessments/_flag_list.html", {"flags": patient.screening_flags})
    return format_html(
        '<tr>\n      <th scope="row"><a href="{}">{}, {}</a></th>\n'
        '      <td data-label="Born">{}</td>\n'
        '      <td data-label="State">{}</td>\n'
        '      <td data-label="Stage"><span class="stage stage-{}">{}</span></td>\n'
        '      <td data-label="Next">\n        {}\n        {}\n      </td>\n'
        '      <td data-label="Care team">{}</td>\n'
        '      <td data-label="Messages">{}</td>\n    </tr>',
        patient.urls["chart"],
        patient.last_name,
        patient.first_name,
        patient.born,
        patient.state,
        patient.stage,
        patient.get_stage_display(),
        format_html('<span class="missing">{}</span>', patient.waiting_for) if patient.waiting_for else "",
        flags,
        patient.team,
        _messages_cell(patient, user),
    )


def _messages_cell(patient, user):
    unread = patient.unread
    if unread:
        thread = patient.urls["care_team_thread" if unread.care_team else "patient_thread"]
        return format_html(
            '<a href="{}" class="unread-messages"><span class="badge new">{} unread</span></a>',
            thread,
            localize(unread.total),
        )
    if user.role != User.Role.COORDINATOR:
        return format_html('<a href="{}">Messages</a>', patient.urls["care_team_thread"])
    return ""


def follow_up_due_lines(entries):
    """The body of each `<li>` of the follow-ups due (due_selectors.WorkItem list)."""
    return [_follow_up_due(entry) for entry in entries]


def _follow_up_due(entry):
    if entry.days_overdue:
        when = format_html(
            '<span class="overdue">{} day{} overdue</span>', localize(entry.days_overdue), pluralize(entry.days_overdue)
        )
    elif entry.days_until:
        when = format_html(
            '<span class="muted">in {} day{}</span>', localize(entry.days_until), pluralize(entry.days_until)
        )
    else:
        when = mark_safe('<span class="muted">today</span>')
    return format_html(
        '<a href="{}"><strong>{}, {}</strong></a>\n      · due {}\n      {}',
        id_url("treatment:patient-follow-up", entry.patient.id),
        entry.patient.last_name,
        entry.patient.first_name,
        _date(entry.due_on, "M j, Y"),
        when,
    )


def plan_ending_lines(entries):
    """The body of each `<li>` of the dose plans nearing exhaustion (due_selectors.WorkItem list)."""
    return [
        format_html(
            '<a href="{}"><strong>{}, {}</strong></a>\n      · {}',
            id_url("treatment:patient-follow-up", entry.patient.id),
            entry.patient.last_name,
            entry.patient.first_name,
            entry.detail,
        )
        for entry in entries
    ]


def follow_up_booking_lines(follow_ups):
    """What follows `<li>` in each of the prescriber's pending follow-ups (FollowUp list with `booked_at`)."""
    return [_follow_up_booking(follow_up) for follow_up in follow_ups]


def _follow_up_booking(follow_up):
    patient = follow_up.patient
    if follow_up.booked_at:
        when = format_html(
            "· booked {}\n      ", _date(do_timezone(follow_up.booked_at, patient.time_zone), "D M j, g:i A T")
        )
    else:
        when = format_html('· <span class="overdue">not booked</span>, book by {}', _date(follow_up.due_on, "M j"))
    return format_html(
        '<a href="{}"><strong>{}, {}</strong></a>\n      {}',
        id_url("treatment:patient-visits", patient.id),
        patient.last_name,
        patient.first_name,
        when,
    )

"""The patient chart: an overview first, then one page per section (issue 16), like SimplePractice's client chart.

Each section is its own URL, so it can be linked to and its read is audited with that URL; the tabs carry counts
that cost one query together. A section the user's role may not see is refused (403) with its reason."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from assessments import selectors as assessment_selectors
from assessments.models import QuestionnaireResponse
from kapcare import access
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from patients import selectors as patient_selectors
from patients.forms import AssignPrescriberForm, AssignTherapistForm
from patients.models import Patient, SafetyAlert
from treatment.adverse_events import selectors as adverse_event_selectors
from treatment.course import selectors as course_selectors
from treatment.measurement.views import scores_for_chart
from treatment.notes import selectors as note_selectors
from treatment.notes.models import SessionNote
from treatment.sessions.models import TherapySession

from .. import selectors as messaging_selectors
from ..models import Message


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    permission: Permission  # who may open it (the overview needs VIEW_PATIENT only)


SECTIONS = [
    Section("sessions", "Sessions", Permission.VIEW_PATIENT),
    Section("measures", "Measures", Permission.VIEW_QUESTIONNAIRES),
    Section("course", "Course", Permission.VIEW_PATIENT),
    Section("notes", "Notes", Permission.VIEW_DOCUMENTATION_STATE),
    Section("safety", "Safety", Permission.VIEW_SAFETY_ALERTS),
    Section("messages", "Messages", Permission.VIEW_PATIENT),
    Section("documents", "Documents", Permission.VIEW_PATIENT),
    Section("reminders", "Reminders", Permission.VIEW_REMINDERS),
    Section("history", "Access history", Permission.VIEW_ACCESS_HISTORY),
]
SECTION_BY_SLUG = {section.slug: section for section in SECTIONS}


def _count(queryset):
    """A scalar subquery counting `queryset`'s rows of the outer patient."""
    counted = queryset.filter(patient=OuterRef("pk")).order_by().values("patient").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")[:1], output_field=IntegerField()), Value(0))


def tab_counts(user, patient):
    """{section slug: count} for the tabs that show one, in one query."""
    counts = {
        "sessions": _count(TherapySession.objects.all()),
        "measures": _count(QuestionnaireResponse.objects.all()),
        "notes": _count(SessionNote.objects.all()),
        "safety": _count(SafetyAlert.objects.open()),
        "messages": _count(Message.objects.filter(thread__kind__in=messaging_selectors.thread_kinds_for(user))),
    }
    return Patient.objects.filter(pk=patient.pk).values(**counts).get()


def tabs_for(user, patient, current):
    """The sections this user may open, each with its count (None when it has none) and whether it is current."""
    counts = tab_counts(user, patient)
    return [
        {"section": section, "count": counts.get(section.slug), "current": section.slug == current}
        for section in SECTIONS
        if access.can(user, section.permission)
    ]


def _next_session(sessions):
    now = timezone.now()
    upcoming = [s for s in sessions if s.status == TherapySession.Status.SCHEDULED and s.scheduled_at >= now]
    return min(upcoming, key=lambda s: s.scheduled_at, default=None)


def _overview(user, patient):
    course_chart = course_selectors.course_for_chart(user, patient)
    note_selectors.attach_documentation_state(user, course_chart.sessions)
    scores = scores_for_chart(user, patient)
    alerts = None
    if access.can(user, Permission.VIEW_SAFETY_ALERTS):
        alerts = patient_selectors.safety_alerts_for_chart(user, patient)
    return {
        "course_chart": course_chart,
        "next_session": _next_session(course_chart.sessions),
        "unsigned": [s for s in course_chart.sessions if s.documentation and not s.documentation_signed],
        "latest_scores": [chart["series"] for chart in scores["charts"] if chart["series"].points] if scores else None,
        "open_alerts": [alert for alert in alerts if not alert.fully_acknowledged] if alerts is not None else None,
        "can_invite": access.can(user, Permission.INVITE_PATIENT) and not patient.user_id,
        "latest_invitation": patient.invitations.order_by("-created_at").first(),
        "assign_form": AssignPrescriberForm(patient=patient)
        if access.can(user, Permission.ASSIGN_PRESCRIBER)
        else None,
        "assign_therapist_form": AssignTherapistForm(patient=patient)
        if access.can(user, Permission.ASSIGN_THERAPIST)
        else None,
    }


def _course_with_sessions(user, patient):
    course_chart = course_selectors.course_for_chart(user, patient)
    note_selectors.attach_documentation_state(user, course_chart.sessions)
    return {"course_chart": course_chart}


def _safety(user, patient):
    return {
        "chart_alerts": patient_selectors.safety_alerts_for_chart(user, patient),
        "side_effects": adverse_event_selectors.adverse_events_of_patient(user, patient)
        if access.can(user, Permission.VIEW_ADVERSE_EVENTS)
        else None,
        "can_report_side_effect": access.can(user, Permission.REPORT_ADVERSE_EVENT) and user.role != User.Role.PATIENT,
    }


def _documents(user, patient):
    return {
        "intake_chart": assessment_selectors.intake_for_chart(user, patient),
        "consent_status": patient_selectors.consent_status(patient),
        "education_progress": patient_selectors.education_progress(patient),
        "can_view_referral": access.can(user, Permission.VIEW_REFERRAL_DETAIL),
    }


def _nothing(user, patient):
    return {}


SECTION_CONTEXT = {
    "overview": _overview,
    "sessions": _course_with_sessions,
    "course": _course_with_sessions,
    "notes": _course_with_sessions,
    "measures": lambda user, patient: {"scores": scores_for_chart(user, patient)},
    "safety": _safety,
    "documents": _documents,
    "messages": _nothing,
    "reminders": _nothing,
    "history": _nothing,
}


@login_required
def patient_chart(request, patient_id, section="overview"):
    """The chart's overview (`section` "overview") or one section; each read is audited with its URL."""
    if section != "overview" and section not in SECTION_BY_SLUG:
        raise Http404("No such section of the chart.")
    user = request.user
    patient = patient_selectors.patient_for_chart(user, patient_id, action=AuditEvent.Action.READ)
    access.require(user, Permission.VIEW_PATIENT, patient)
    if section != "overview":
        access.require(user, SECTION_BY_SLUG[section].permission, patient)
    audit_record(user, AuditEvent.Action.READ, patient, fields=[f"chart.{section}"])  # which part was read
    context = {
        "patient": patient,
        "section": section,
        "section_title": SECTION_BY_SLUG[section].title if section != "overview" else "Overview",
        "tabs": tabs_for(user, patient, section),
        "can_view_history": access.can(user, Permission.VIEW_ACCESS_HISTORY),
        **SECTION_CONTEXT[section](user, patient),
    }
    template = "chart.html" if section == "overview" else "chart_section.html"
    return render(request, f"messaging/dashboards/{template}", context)

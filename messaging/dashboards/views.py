from dataclasses import astuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import EmptyPage, Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from assessments import selectors as assessment_selectors
from kapcare import access, caseload_cache
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from messaging import selectors as message_selectors
from patients import selectors as patient_selectors
from treatment.adverse_events import selectors as adverse_event_selectors
from treatment.sessions import selectors as session_selectors
from treatment.visits import selectors as visit_selectors

from . import due_selectors, lines, search
from . import selectors as dashboard_selectors
from .forms import PatientListForm, clinician_choices

DASHBOARD_PAGE_SIZE = 25  # the pager pages through the rest
DASHBOARD_PANEL_LIMIT = 10  # each panel lists its most urgent rows with its full count and, where one exists, a link
ALERT_PANEL_LIMIT = 50  # safety alerts: every one waiting, as far as a page can hold them


@login_required
def dashboard(request):
    """Each role's home: clinicians and coordinators see their patients; a patient sees their own page."""
    user = request.user
    if user.role == User.Role.PATIENT:
        return _patient_dashboard(request)
    if user.role == User.Role.ADMIN:
        return render(request, "messaging/dashboards/dashboard_admin.html")
    summary = _caseload_summary(user)
    clinicians = summary["clinicians"]
    if request.method == "POST":
        return _search_patients(request, PatientListForm(request.POST, user=user, clinicians=clinicians))
    data, expired = search.list_data(request.GET, request.session)
    if expired:
        messages.warning(request, "That search is no longer kept: the list shows every patient. Search again.")
        return _patient_list_redirect("")
    list_form = PatientListForm(data, user=user, clinicians=clinicians)
    page = _patient_list_page(user, list_form, count=summary["patients"])
    if page is None:
        return _patient_list_invalid(request, list_form)
    patients = dashboard_selectors.annotate_dashboard_page(user, list(page.object_list))
    # Each panel is one query and lists its most urgent rows only; its full count is in the summary.
    # The prescriber's evaluation queue ([] for everyone else).
    evaluation_queue = assessment_selectors.evaluation_queue(user, limit=DASHBOARD_PANEL_LIMIT)
    # The prescriber's follow-ups, booked (when) or not yet (book by): treatment.visits.
    follow_up_bookings = visit_selectors.follow_up_bookings(user) if user.role == User.Role.PRESCRIBER else []
    # Safety: the alerts waiting for this clinician, and (prescribers) recent side effects.
    open_alerts = patient_selectors.open_safety_alerts_for(user, limit=ALERT_PANEL_LIMIT)
    recent_side_effects = (
        adverse_event_selectors.recent_adverse_events(user, limit=DASHBOARD_PANEL_LIMIT)
        if user.role == User.Role.PRESCRIBER
        else []
    )
    # The work due (questionnaires, follow-ups, dose plans ending, notes to sign, documentation before a visit,
    # sessions on hold): the most urgent rows of each kind the role works, from the stored due work.
    panels = due_selectors.dashboard_panels(user, counts=summary["due"])
    # Sessions (the therapist's and the coordinator's schedule): patients by stage, today's and upcoming sessions
    # with their checklist state; the therapist also sees each patient's current dose plan.
    show_sessions = user.role in (User.Role.THERAPIST, User.Role.COORDINATOR)
    stage_counts = [session_selectors.StageCount(*entry) for entry in summary.get("stages", [])]
    upcoming_sessions = session_selectors.upcoming_sessions(user, limit=DASHBOARD_PANEL_LIMIT) if show_sessions else []
    current_plans = (
        session_selectors.current_dose_plans(user, limit=DASHBOARD_PANEL_LIMIT)
        if user.role == User.Role.THERAPIST
        else []
    )
    # Every patient the page shows, once, in one audit INSERT (alerts and side effects as themselves).
    shown = {
        patient.pk: patient
        for patient in [
            *patients,
            *(entry.patient for entry in evaluation_queue),
            *(row.patient for rows in panels.rows.values() for row in rows),
            *(entry.patient for entry in follow_up_bookings),
            *(entry.session.patient for entry in upcoming_sessions),
            *(plan.patient for plan in current_plans),
        ]
    }
    audit_record_many(user, AuditEvent.Action.LIST, [*shown.values(), *open_alerts, *recent_side_effects])
    entries = panels.entries()
    return render(
        request,
        "messaging/dashboards/dashboard_clinical.html",
        {
            "show_sessions": show_sessions,
            "stage_counts": stage_counts,
            "upcoming_sessions": upcoming_sessions,
            "upcoming_session_lines": lines.upcoming_session_lines(
                upcoming_sessions, show_checklist_state=access.can(user, Permission.VIEW_CHECKLIST)
            ),
            "upcoming_session_count": summary.get("sessions", 0),
            "current_plans": current_plans,
            "current_plan_lines": lines.current_plan_lines(current_plans),
            "current_plan_count": summary.get("plans", 0),
            "page": page,
            "patients": patients,
            "patient_rows": lines.patient_rows(patients, user=user),
            "list_form": list_form,
            "can_refer": access.can(user, Permission.REFER_PATIENT),
            "evaluation_queue": evaluation_queue,
            "evaluation_queue_count": summary.get("evaluation_queue", 0),
            "show_alerts": user.role in (*User.CLINICIAN_ROLES, User.Role.COORDINATOR),
            "open_alerts": open_alerts,
            "show_side_effects": user.role == User.Role.PRESCRIBER,
            "recent_side_effects": recent_side_effects,
            "recent_side_effect_lines": lines.side_effect_lines(recent_side_effects),
            "recent_side_effect_count": summary.get("side_effects", 0),
            "show_questionnaires_due": user.role in User.CLINICIAN_ROLES,
            "due_counts": panels.counts,
            **entries,
            "follow_up_due_lines": lines.follow_up_due_lines(entries["follow_ups_due"]),
            "plan_ending_lines": lines.plan_ending_lines(entries["plans_nearing_exhaustion"]),
            "follow_up_bookings": follow_up_bookings,
            "follow_up_booking_lines": lines.follow_up_booking_lines(follow_up_bookings),
            "notifications_unread": summary["notifications"],
        },
    )


def _caseload_summary(user):
    """What the dashboard counts over the user's whole caseload (the clinician filter's choices, how many patients,
    the work due, each panel's full count), from kapcare.caseload_cache: recomputed only after a service changed
    what they count, or once a minute."""
    today = timezone.localdate()
    role = user.role
    compute = {
        "clinicians": lambda: clinician_choices(patient_selectors.care_team_clinicians(user)),
        **patient_selectors.patient_count_summary(user),
        f"due:{today.isoformat()}": lambda: due_selectors.due_counts(
            user, due_selectors.panel_kinds(user), today=today
        ),
    }
    if role == User.Role.THERAPIST:
        compute["stages"] = lambda: [astuple(entry) for entry in session_selectors.patients_by_stage(user)]
        compute["plans"] = lambda: session_selectors.current_dose_plan_count(user)
    if role in (User.Role.THERAPIST, User.Role.COORDINATOR):
        compute[f"sessions:{today.isoformat()}"] = lambda: session_selectors.upcoming_session_count(user)
    if role == User.Role.PRESCRIBER:
        compute["evaluation_queue"] = lambda: assessment_selectors.evaluation_queue_count(user)
        compute["side_effects"] = lambda: adverse_event_selectors.recent_adverse_event_count(user)
    compute.update(message_selectors.badge_summary(user))  # the menu's badge, in the same round trip
    values = caseload_cache.summaries(user, compute)
    return {name.split(":", 1)[0]: value for name, value in values.items()}


def _search_patients(request, form):
    """The search form's POST: the typed term is kept in the session and the list opens under an opaque key
    (PRG), so the term never reaches a URL (messaging.dashboards.search)."""
    if not form.is_valid():
        return _patient_list_invalid(request, form)
    term = form.cleaned_data["q"]
    key = search.remember(request.session, term) if term else None
    return _patient_list_redirect(search.list_query(request.POST, key))


def _patient_list_redirect(query):
    url = reverse("dashboards:dashboard") + (f"?{query}" if query else "") + "#patients"
    return HttpResponseRedirect(url, status=303)


def _patient_list_invalid(request, form):
    return render(request, "messaging/dashboards/patient_list_invalid.html", {"list_form": form}, status=400)


def _patient_list_page(user, form, *, count):
    """The page of the patient list the form asks for (one query for the rows, one for the count of a filtered
    list; `count`, every patient of the user, for an unfiltered one), or None with the form's errors saying what
    was wrong."""
    if not form.is_valid():
        return None
    if form.filtered:
        # The care team comes with annotate_dashboard_page (values, not instances), not patient_list's prefetch.
        rows = patient_selectors.patient_list(user, form.list_query()).prefetch_related(None)
        rows = dashboard_selectors.with_unread_counts(user, rows.only(*dashboard_selectors.PATIENT_ROW_FIELDS))
        paginator = Paginator(rows, DASHBOARD_PAGE_SIZE)
    else:
        # Every patient of the user, in the order asked (a prepared query: the page opened most often), counted
        # from their care team rows rather than over every patient.
        paginator = Paginator(dashboard_selectors.PATIENT_PAGES.of(user, form.list_query().sort), DASHBOARD_PAGE_SIZE)
        paginator.count = count
    number = form.cleaned_data["page"] or 1
    try:
        return paginator.page(number)
    except EmptyPage:
        pages = f"{paginator.num_pages} page{'s' if paginator.num_pages != 1 else ''}"
        form.add_error("page", f"There is no page {number}: this list has {pages}.")
        return None


def _patient_dashboard(request):
    patient = patient_selectors.patients_for_list(request.user).first()
    if patient is None:
        return render(request, "messaging/dashboards/dashboard_patient.html", {"patient": None})
    audit_record(request.user, AuditEvent.Action.READ, patient)
    # What is due comes from the stored due work, as on the clinicians' dashboards (the questionnaire list derives it).
    questionnaires_due = due_selectors.questionnaires_due_for_patient(request.user, patient)
    intake_started = assessment_selectors.has_intake(request.user, patient)
    steps = dashboard_selectors.onboarding_steps(
        patient, intake_started=intake_started, questionnaires_due=questionnaires_due
    )
    next_step = next((step for step in steps if not step.done and not step.later), None)
    return render(
        request,
        "messaging/dashboards/dashboard_patient.html",
        {
            "patient": patient,
            "steps": steps,
            "next_step": next_step,
            "questionnaires_due": questionnaires_due,
            "my_sessions": session_selectors.upcoming_sessions(request.user, days=30),
        },
    )

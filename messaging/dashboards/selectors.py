"""Reads that compose the course of care from the apps below: the patient's onboarding checklist and
what each patient on a clinician's dashboard is waiting for. Every patient comes from kapcare.access."""

import uuid
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.safestring import mark_safe

from assessments import selectors as assessment_selectors
from assessments.models import Intake
from kapcare import access, prepared
from kapcare.access import Permission
from messaging import selectors as message_selectors
from messaging.models import Thread
from patients import selectors as patient_selectors
from patients.models import Invitation, Patient, Stage
from patients.selectors import PatientListQuery


@dataclass(frozen=True)
class Step:
    title: str
    done: bool
    detail: str
    url: str | None = None
    later: bool = False  # not open yet: comes with a later stage


def onboarding_steps(patient, *, intake_started, questionnaires_due=None):
    """The patient's checklist in the order they should work through it. `intake_started`: whether they have an
    intake, draft or sent (assessments.selectors.has_intake); `questionnaires_due` what is due now (the stored due
    work's questionnaires, messaging.dashboards.due_selectors), which opens the baseline step once the course is
    open."""
    consents_left = patient_selectors.outstanding_consents(patient)
    modules = patient_selectors.education_progress(patient)
    unread = [module for module in modules if module.read_at is None]
    profile_done = bool(patient.phone and patient.emergency_contact_name and patient.emergency_contact_phone)
    if patient.intake_submitted_at:
        intake_detail = f"Sent to your medical team on {timezone.localtime(patient.intake_submitted_at):%b %-d}."
    elif intake_started:
        intake_detail = "Started and saved as a draft; pick up where you left off."
    else:
        intake_detail = "Your health history, medicines and how you are feeling, for the prescriber."
    return [
        Step(
            "Your profile",
            profile_done,
            "Phone, emergency contact, and a chaperone for sessions at home.",
            reverse("patients:patient-profile"),
        ),
        Step(
            "Health questionnaire (intake)",
            bool(patient.intake_submitted_at),
            intake_detail,
            reverse("assessments:intake"),
        ),
        Step(
            "Consents",
            not consents_left,
            "All signed." if not consents_left else f"{len(consents_left)} to read and sign.",
            reverse("patients:consent-list"),
        ),
        Step(
            "Learn what to expect",
            bool(modules) and not unread,
            "All read." if modules and not unread else f"{len(unread)} of {len(modules)} short readings left.",
            reverse("patients:education-list"),
        ),
        _baseline_step(patient, questionnaires_due),
    ]


def _baseline_step(patient, questionnaires_due):
    title = "Baseline questionnaires"
    if questionnaires_due is None or patient.stage not in (Stage.PREPARATION, Stage.DOSING, Stage.MAINTENANCE):
        return Step(
            title,
            False,
            "Short mood and anxiety questionnaires before your first session; your team will ask when it is time.",
            later=True,
        )
    baseline = [entry for entry in questionnaires_due if entry.reason.startswith("Baseline")]
    if not baseline:
        return Step(
            title, True, "Answered: your team can see how you were before treatment.", reverse("treatment:my-progress")
        )
    names = ", ".join(entry.instrument.short_name for entry in baseline)
    return Step(
        title, False, f"{names}: a few minutes, before your first dose.", reverse("treatment:questionnaire-list")
    )


def _with_waiting_facts(patients):
    """`patients` (a queryset) with what `_waiting_for` reads: for a referred patient without an account, their
    latest invitation's date and whether its link still works; for a patient at intake, their latest intake's
    status and how many current required consents they still have to sign. Each is a subquery under a CASE on
    the row's stage."""
    now = timezone.now()
    invitation = Invitation.objects.filter(patient=OuterRef("pk")).order_by("-created_at", "-id")
    works = Q(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
    usable = invitation.annotate(usable=ExpressionWrapper(works, output_field=BooleanField()))
    intake = Intake.objects.filter(patient=OuterRef("pk")).order_by("-created_at", "-id")
    referred = Q(stage=Stage.REFERRED, user_id__isnull=True)
    return patients.annotate(
        invitation_created_at=Case(When(referred, then=Subquery(invitation.values("created_at")[:1]))),
        invitation_usable=Case(When(referred, then=Subquery(usable.values("usable")[:1]))),
        intake_status=Case(When(stage=Stage.INTAKE, then=Subquery(intake.values("status")[:1]))),
        unsigned_consents=Case(When(stage=Stage.INTAKE, then=patient_selectors.outstanding_consent_count(now))),
    )


FACTS = ("invitation_created_at", "invitation_usable", "intake_status", "unsigned_consents")


def _early(patient):
    return (patient.stage == Stage.REFERRED and not patient.user_id) or patient.stage == Stage.INTAKE


def _waiting_for(
    patient, *, invitation_created_at=None, invitation_usable=None, intake_status=None, unsigned_consents=None
):
    """What an early-stage patient still has to do, in words for the care team (the facts of
    `_with_waiting_facts`)."""
    if patient.stage == Stage.REFERRED:
        if patient.user_id:
            return "Joined the portal"
        if invitation_created_at is None:
            return "Not invited yet"
        if invitation_usable:
            return f"Invited {invitation_created_at:%b %-d}; not joined yet"
        return "Invitation link no longer works: send a new one"
    if patient.stage == Stage.INTAKE:
        missing = []
        if not patient.intake_submitted_at:
            missing.append("intake in progress" if intake_status == Intake.Status.DRAFT else "intake")
        unsigned = unsigned_consents or 0
        if unsigned:
            missing.append(f"{unsigned} consent{'s' if unsigned > 1 else ''}")
        return "Waiting for: " + ", ".join(missing) if missing else "Ready for evaluation"
    if patient.stage == Stage.EVALUATION:
        return "Ready for the prescriber's evaluation"
    return ""


_ANY_ID = uuid.UUID(int=0)


def url_maker(name):
    """A function of a patient's id to the path of the URL `name` that takes it as its only argument: reversed
    once for a list rather than once per row."""
    prefix, _, suffix = reverse(name, args=[_ANY_ID]).partition(str(_ANY_ID))
    return lambda pk: f"{prefix}{pk}{suffix}"


ROW_URLS = {
    "chart": "dashboards:patient-chart",
    "care_team_thread": "messaging:care-team-thread",
    "patient_thread": "messaging:patient-thread",
}


def with_unread_counts(user, patients):
    """`patients` (a queryset) with `unread_care_team` and `unread_patient`: the messages sent to the user in each
    of the patient's threads and not read yet, as subqueries of the page's own query; unchanged for a role that
    reads no thread (coordinators)."""
    if not access.can(user, Permission.VIEW_PATIENT_THREAD):
        return patients
    counts = message_selectors.unread_count_subqueries(user)
    return patients.annotate(unread_care_team=counts[Thread.Kind.CARE_TEAM], unread_patient=counts[Thread.Kind.PATIENT])


# What a row of the patient list shows or reads (annotate_dashboard_page): its other columns cost more to compile
# and load than the rows.
PATIENT_ROW_FIELDS = (
    *("id", "first_name", "last_name", "date_of_birth", "state", "stage", "user_id", "intake_submitted_at"),
)


def _page_rows(user, sort):
    # The care team comes with annotate_dashboard_page (values, not instances), not patient_list's prefetch.
    rows = patient_selectors.patient_list(user, PatientListQuery(sort=sort)).prefetch_related(None)
    return with_unread_counts(user, rows.only(*PATIENT_ROW_FIELDS))


# Every patient of the user in the list's sort order, for a Paginator given the count: each page one query (its
# rows, with_unread_counts annotated), built once per role, order and page (the page a clinician opens first).
PATIENT_PAGES = prepared.UserPages(_page_rows)


def _born(day):
    """The date as the `date:"M j, Y"` filter writes it, without a formatter object per row."""
    return f"{MONTHS_3[day.month].title()} {day.day}, {day.year:04d}"


def annotate_dashboard_page(user, patients):
    """Give each patient on a dashboard page (from a queryset `with_unread_counts` annotated) `waiting_for`,
    `unread` (an Unread, or None), `urls` (ROW_URLS: their chart and threads), `born` and `team` (the row's date of
    birth and care team, written here rather than by template tags per row) and, for clinicians,
    `screening_flags`. A fixed number of queries for the page, whatever its size: the care teams, the flags
    (clinicians) and, when the page shows a referred or intake patient, what those wait for."""
    ids = [patient.pk for patient in patients]
    makers = {key: url_maker(name) for key, name in ROW_URLS.items()}
    teams = patient_selectors.active_teams_for_patients(ids)
    # What the early rows wait for, in one query, asked only when the page shows one (most rows are past intake).
    early = [patient.pk for patient in patients if _early(patient)]
    facts = {}
    if early:
        rows = _with_waiting_facts(Patient.objects.filter(pk__in=early)).values_list("pk", *FACTS)
        facts = {pk: dict(zip(FACTS, row, strict=True)) for pk, *row in rows}
    show_flags = access.can(user, Permission.VIEW_SCREENING_FLAGS)
    flags = assessment_selectors.screening_flags_for_patients(ids) if show_flags else {}
    for patient in patients:
        patient.waiting_for = _waiting_for(patient, **facts.get(patient.pk, {}))
        unread = message_selectors.Unread(
            care_team=getattr(patient, "unread_care_team", 0), patient=getattr(patient, "unread_patient", 0)
        )
        patient.unread = unread if unread.total else None
        patient.screening_flags = flags.get(patient.pk, [])
        patient.urls = {key: make(patient.pk) for key, make in makers.items()}
        patient.born = _born(patient.date_of_birth)
        patient.team = mark_safe(  # noqa: S308 (every value escaped)
            ", ".join(
                f'{escape(name)} <span class="muted">({escape(role.lower())})</span>'
                for name, role in teams.get(patient.pk, [])
            )
        )
    return patients

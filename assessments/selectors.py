"""Reads of intakes and screening flags for views and the API; every one starts from kapcare.access."""

from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Prefetch, Subquery

from kapcare import access, prepared
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from patients.access import visible_patients
from patients.models import Stage

from .models import Evaluation, EvaluationAddendum, EvaluationFlagReview, Intake, IntakeMedication, ScreeningFlag


def visible_intakes(user):
    """Intakes of the patients the user may see, newest first, with their flag count."""
    return (
        Intake.objects.filter(patient__in=visible_patients(user))
        .annotate(flag_count=Count("flags"))
        .order_by("-created_at", "-id")
    )


def intakes_for_list(user, *, with_answers=True, with_flags=False):
    """Visible intakes with, in one query each, their medicines (`with_answers`) and flags (`with_flags`)."""
    intakes = visible_intakes(user)
    if with_answers:
        intakes = intakes.prefetch_related(
            Prefetch("medications", queryset=IntakeMedication.objects.order_by("position", "id"))
        )
    if with_flags:
        intakes = intakes.prefetch_related(Prefetch("flags", queryset=ScreeningFlag.objects.order_by("severity", "id")))
    return intakes


def intakes_for_caller(user):
    """intakes_for_list with what the user's role may read: answers and medicines, and screening flags."""
    return intakes_for_list(
        user,
        with_answers=access.can(user, Permission.VIEW_INTAKE_DETAIL),
        with_flags=access.can(user, Permission.VIEW_SCREENING_FLAGS),
    )


def has_intake(user, patient) -> bool:
    """Whether the patient has started an intake (a draft or sent). `patient` must come from a visible_* queryset."""
    return visible_intakes(user).filter(patient=patient).exists()


def intake_for_patient(user, patient):
    """The patient's current (latest) intake with its medicines and flags, or None. `patient` must come
    from a visible_* queryset. Not audited: the caller records what it shows."""
    return intakes_for_list(user, with_flags=True).filter(patient=patient).first()


@dataclass
class IntakeOnChart:
    """What the chart's intake panel shows this user. Render with templates/assessments/_chart_intake.html."""

    patient: object
    intake: Intake | None
    show_answers: bool  # the patient's answers (clinicians; the patient on their own record)
    show_flags: bool  # each flag with its severity and reason (clinicians on the team only)
    show_flag_count: bool  # how many flags (clinicians and coordinators; never the patient)
    flags: list = field(default_factory=list)

    @property
    def status(self):
        return self.intake.get_status_display() if self.intake else "Not started"

    @property
    def flag_count(self):
        return self.intake.flag_count if self.intake and self.intake.is_locked else None

    @property
    def absolute_count(self):
        return sum(1 for flag in self.flags if flag.severity == "absolute")


def intake_for_chart(user, patient) -> IntakeOnChart:
    """The intake panel of a patient's chart: the current intake, and what this user may see of it.
    `patient` must come from a visible_* queryset. Reading the intake is audited. Three queries."""
    intake = intake_for_patient(user, patient)
    if intake is not None:
        audit_record(user, AuditEvent.Action.READ, intake)
    show_flags = access.can(user, Permission.VIEW_SCREENING_FLAGS)
    return IntakeOnChart(
        patient=patient,
        intake=intake,
        show_answers=access.can(user, Permission.VIEW_INTAKE_DETAIL),
        show_flags=show_flags,
        show_flag_count=access.can(user, Permission.VIEW_SCREENING_SUMMARY),
        flags=list(intake.flags.all()) if intake is not None and show_flags else [],
    )


def _flag_rows(ids):
    latest = Subquery(
        Intake.objects.submitted()
        .filter(patient_id=OuterRef("intake__patient_id"))
        .order_by("-submitted_at", "-id")
        .values("pk")[:1]
    )
    return (
        ScreeningFlag.objects.filter(intake__patient_id__in=ids, intake_id=latest)
        .annotate(patient_ref=F("intake__patient_id"))
        .order_by("severity", "id")
    )


# Built once per process (kapcare.prepared): the flags of every clinician's dashboard page.
_FLAG_ROWS = prepared.PreparedForIds(_flag_rows)


def screening_flags_for_patients(patient_ids) -> dict:
    """Flags of each patient's latest submitted intake, absolute first, in one query:
    {patient_id: [ScreeningFlag, ...]}; a patient without flags is absent.

    For the prescriber's dashboard and evaluation queue. The caller passes ids of patients it found
    through kapcare.access, and shows the flags only when access.can(user, VIEW_SCREENING_FLAGS)."""
    flags = _FLAG_ROWS(patient_ids)
    by_patient = {}
    for flag in flags:
        by_patient.setdefault(flag.patient_ref, []).append(flag)
    return by_patient


# The prescriber's evaluation ---------------------------------------------------------------------


def visible_evaluations(user):
    """Evaluations of the patients the user may see, newest first. Callers check VIEW_EVALUATION."""
    return Evaluation.objects.filter(patient__in=visible_patients(user)).order_by("-created_at", "-id")


def evaluations_for_list(user):
    """Visible evaluations with their prescriber, flag reviews (and flags) and addenda: four queries a page."""
    return (
        visible_evaluations(user)
        .select_related("prescriber")
        .prefetch_related(
            Prefetch("flag_reviews", queryset=EvaluationFlagReview.objects.select_related("flag")),
            Prefetch(
                "addenda", queryset=EvaluationAddendum.objects.select_related("author").order_by("signed_at", "id")
            ),
        )
    )


def evaluations_of_patient(user, patient):
    """The patient's evaluations, newest first (the draft, if any, among them). `patient` must be visible."""
    return list(evaluations_for_list(user).filter(patient=patient))


def latest_signed_evaluation(patient):
    return Evaluation.objects.signed().filter(patient=patient).order_by("-signed_at", "-id").first()


def intake_weight_kg(patient):
    """The weight the patient gave on their latest submitted intake, or None."""
    return (
        Intake.objects.submitted()
        .filter(patient=patient)
        .order_by("-submitted_at", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )


@dataclass
class QueueEntry:
    """One patient awaiting the prescriber's evaluation, with what the prescriber reads first."""

    patient: object
    intake_status: str | None
    intake_submitted_at: object
    draft_evaluation_id: object
    flags: list = field(default_factory=list)

    @property
    def absolute_count(self):
        return sum(1 for flag in self.flags if flag.severity == "absolute")


def evaluation_queue_count(user) -> int:
    """How many patients evaluation_queue would list without a limit. One query (none for other roles)."""
    if not access.can(user, Permission.WRITE_EVALUATION):
        return 0
    return visible_patients(user).filter(stage=Stage.EVALUATION).count()


def _queue_rows(key, values):
    shape, limit = key
    latest_intake = Intake.objects.filter(patient=OuterRef("pk")).order_by("-created_at", "-id")
    draft = Evaluation.objects.drafts().filter(patient=OuterRef("pk")).values("pk")[:1]
    return (
        visible_patients(prepared.user_of(shape, values))
        .filter(stage=Stage.EVALUATION)
        .select_related("referral")
        .annotate(
            queue_intake_status=Subquery(latest_intake.values("status")[:1]),
            queue_intake_submitted_at=Subquery(latest_intake.values("submitted_at")[:1]),
            queue_draft_evaluation=Subquery(draft),
        )
        .order_by(F("intake_submitted_at").asc(nulls_last=True), "last_name", "id")[:limit]
    )


# Built once per role and limit (kapcare.prepared): the prescriber's dashboard shows it on every visit.
_QUEUE_ROWS = prepared.Prepared(_queue_rows, slots=prepared.USER_SLOTS)


def evaluation_queue(user, *, limit=50) -> list[QueueEntry]:
    """Patients at the evaluation stage on this prescriber's care teams, oldest intake first, with the
    referral summary, intake status, screening flags and any draft evaluation. Two queries whatever the
    number of patients (one when there are none). Not audited: the caller records what it shows."""
    if not access.can(user, Permission.WRITE_EVALUATION):
        return []
    patients = _QUEUE_ROWS((prepared.user_shape(user), limit), **prepared.user_values(user))
    flags = screening_flags_for_patients([p.pk for p in patients]) if patients else {}
    return [
        QueueEntry(
            patient=p,
            intake_status=p.queue_intake_status,
            intake_submitted_at=p.queue_intake_submitted_at,
            draft_evaluation_id=p.queue_draft_evaluation,
            flags=flags.get(p.pk, []),
        )
        for p in patients
    ]


def intake_weights_kg(patient_ids) -> dict:
    """{patient id: weight in kg from their latest submitted intake}, in one query."""
    weights = {}
    rows = (
        Intake.objects.submitted()
        .filter(patient_id__in=list(patient_ids), weight_kg__isnull=False)
        .order_by("submitted_at", "id")
        .values_list("patient_id", "weight_kg")
    )
    for patient_id, weight in rows:
        weights[patient_id] = weight
    return weights

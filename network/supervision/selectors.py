"""Reads of supervision, each starting from kapcare.access: the supervisor's queue, the prescriber's feedback,
the coordinator's overdue list, and the supervised record read through the case's grant (audited as such)."""

from django.utils import timezone

from assessments.models import Evaluation
from kapcare import access
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from treatment.course.models import DosePlan, FollowUp

from .models import SupervisionCase, SupervisionPolicy

RECORD_MODELS = {
    SupervisionCase.Kind.EVALUATION: Evaluation,
    SupervisionCase.Kind.DOSE_PLAN: DosePlan,
    SupervisionCase.Kind.FOLLOW_UP: FollowUp,
}


def visible_cases(user):
    cases = SupervisionCase.objects.select_related("prescriber", "supervisor")
    return access.visible_supervision_cases(user, cases)


def queue(user):
    """The supervisor's open reviews, soonest due first."""
    return visible_cases(user).filter(supervisor=user, reviewed_at__isnull=True).order_by("due_on")


def feedback(user):
    """The prescriber's reviewed work, newest first; a "disagree" waits for acknowledgement."""
    return visible_cases(user).filter(prescriber=user, reviewed_at__isnull=False).order_by("-reviewed_at")


def overdue(user, today=None):
    """Reviews past their due date, for the coordinator to chase (and for the supervisor's own page)."""
    today = today or timezone.localdate()
    return visible_cases(user).filter(reviewed_at__isnull=True, due_on__lt=today).order_by("due_on")


def policy_of(medical_group_id):
    """The medical group's policy (the defaults until a coordinator changes them); read by everyone."""
    return SupervisionPolicy.objects.filter(medical_group_id=medical_group_id).first() or SupervisionPolicy(
        medical_group_id=medical_group_id
    )


def supervised_record(user, case):
    """The record under review, reached through the case (not the care team): audited in the patient's access
    history as a supervision read when the supervisor opens it."""
    record = RECORD_MODELS[case.kind].objects.get(pk=case.record_id)
    detail = {"via": "supervision", "case": str(case.pk)} if case.supervisor_id == user.pk else None
    audit_record(user, AuditEvent.Action.READ, record, detail=detail)
    return record


def record_fields(record):
    """(label, value) of what the signature covers, for the review page."""
    fields = [record._meta.get_field(name) for name in record.CONTENT_FIELDS if hasattr(record, name)]
    return [(field.verbose_name.capitalize(), _shown(record, field)) for field in fields]


def _shown(record, field):
    if field.choices:
        return getattr(record, f"get_{field.name}_display")()
    return getattr(record, field.attname)

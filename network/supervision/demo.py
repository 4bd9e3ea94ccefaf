"""Supervision's demo data (seed_demo): the demo prescriber is supervised by a supervising psychiatrist, the
policy (its defaults) picks the prescriber's signed records, and the first picked is reviewed "disagree"
(awaiting the prescriber's acknowledgement), the second "agree"; the rest wait in the supervisor's queue.
Idempotent: skipped when the prescriber already has a supervisor."""

from datetime import timedelta

from django.utils import timezone

from . import services
from .models import SupervisionAssignment, SupervisionCase

REVIEWS = [
    ("disagree", "Blood pressure at evaluation was borderline: recheck before the first dose and note it in the plan."),
    ("agree", "Clear plan, well within the protocol."),
]


def seed_supervision_demo(*, coordinator, prescriber, supervisor):
    if SupervisionAssignment.objects.filter(prescriber=prescriber).exists():
        return
    services.supervisor_assign(actor=coordinator, prescriber=prescriber, supervisor=supervisor)
    services.supervision_reconcile(since=timezone.now() - timedelta(days=3650))
    picked = SupervisionCase.objects.filter(supervisor=supervisor).exclude(reason="").order_by("considered_at")
    for case, (verdict, comment) in zip(picked, REVIEWS, strict=False):
        services.supervision_review(actor=supervisor, case=case, verdict=verdict, comment=comment)

"""Supervision pages: the queue (supervisor), feedback (prescriber), overdue reviews (coordinator), and one case:
the record read through the supervision grant, the review form, the acknowledgement. Thin: access, a form, one
service."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied

from . import selectors, services
from .forms import CommentForm, ReviewForm

OBJECT_TYPE = "network.supervisioncase"


@login_required
def supervision_home(request):
    access.require(request.user, Permission.VIEW_SUPERVISION, object_type=OBJECT_TYPE)
    user = request.user
    context = {
        "queue": selectors.queue(user),
        "feedback": selectors.feedback(user),
        "overdue": selectors.overdue(user),
        "policy": selectors.policy_of(user.organization_id),
    }
    return render(request, "network/supervision/home.html", context)


def _visible_case(request, pk):
    access.require(request.user, Permission.VIEW_SUPERVISION, object_type=OBJECT_TYPE)
    case = selectors.visible_cases(request.user).filter(pk=pk).first()
    if case is None:
        action = AuditEvent.Action.READ if request.method == "GET" else AuditEvent.Action.UPDATE
        audit_denied(request.user, action, object_type=OBJECT_TYPE, object_id=pk)
        raise Http404("No such supervision case, or it is not yours.")
    return case


@login_required
def case_detail(request, pk):
    case = _visible_case(request, pk)
    error = None
    if request.method == "POST":
        error = _act(request, case)
        if error is None:
            return redirect("network:supervision-case", pk=case.pk)
    reads_record = request.user.pk in (case.supervisor_id, case.prescriber_id)
    record = selectors.supervised_record(request.user, case) if reads_record else None
    context = {
        "case": case,
        "record": record,
        "record_fields": selectors.record_fields(record) if record else None,
        "grant": selectors.supervised_context(request.user, case, record) if record else None,
        "form": ReviewForm() if case.supervisor_id == request.user.pk and case.reviewed_at is None else None,
        "error": error,
        "comments": case.comments.select_related("author"),
        "comment_form": CommentForm() if case.verdict == case.Verdict.DISCUSS and reads_record else None,
    }
    return render(request, "network/supervision/case.html", context, status=400 if error else 200)


@login_required
@require_GET
def context_detail(request, pk, kind, record_pk):
    """One record of the case's context, read-only, through the supervisor's grant (404 outside it)."""
    case = _visible_case(request, pk)
    record = selectors.context_record(request.user, case, kind, record_pk)
    fields = selectors.record_fields(record)
    context = {"case": case, "verbose_name": record._meta.verbose_name, "record_fields": fields}
    return render(request, "network/supervision/context_record.html", context)


def _act(request, case):
    """Run the posted action (review or acknowledge): None when done, else why it was refused."""
    try:
        if request.POST.get("action") == "acknowledge":
            services.supervision_acknowledge(actor=request.user, case=case)
            return None
        if request.POST.get("action") == "comment":
            services.supervision_comment(actor=request.user, case=case, body=request.POST.get("body", ""))
            return None
        form = ReviewForm(request.POST)
        if not form.is_valid():
            return "Choose agree, discuss or disagree."
        services.supervision_review(actor=request.user, case=case, **form.cleaned_data)
    except ValidationError as error:
        return " ".join(error.messages)
    return None

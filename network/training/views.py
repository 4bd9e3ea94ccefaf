"""Training pages: the catalogue with the clinician's enrolments, completing a course with a certificate, the
coordinator's verification queue, certificates (access-checked downloads) and transcripts. Thin: access, a
form, one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied
from kapcare.rules import RuleRefused

from . import selectors, services
from .certificates import certificate_response
from .forms import CompletionForm, CourseForm


def _enrolment(request, pk, action=AuditEvent.Action.READ):
    """An enrolment the user may see, or 404 (audited): nobody learns that another's exists."""
    enrolment = selectors.visible_enrolments(request.user).filter(pk=pk).first()
    if enrolment is None:
        audit_denied(request.user, action, object_type="network.enrolment", object_id=pk)
        raise Http404("No such enrolment, or it is not yours to see.")
    return enrolment


@login_required
def catalogue(request):
    access.require(request.user, Permission.VIEW_TRAINING, object_type="network.course")
    enrolments = selectors.visible_enrolments(request.user)
    mine = {enrolment.course_id: enrolment for enrolment in enrolments.filter(clinician=request.user)}
    context = {
        "rows": [(course, mine.get(course.pk)) for course in selectors.courses(request.user)],
        "can_enrol": access.can(request.user, Permission.ENROL_IN_COURSE),
        "to_verify": enrolments.filter(completed_on__isnull=False, verified_at__isnull=True)
        if access.can(request.user, Permission.VERIFY_TRAINING)
        else [],
        "course_form": CourseForm() if access.can(request.user, Permission.MANAGE_COURSES) else None,
    }
    return render(request, "network/training/catalogue.html", context)


@login_required
@require_POST
def course_add(request):
    """A coordinator adds a course to the catalogue."""
    access.require(request.user, Permission.MANAGE_COURSES, object_type="network.course")
    form = CourseForm(request.POST)
    if form.is_valid():
        course = services.course_create(actor=request.user, **form.cleaned_data)
        messages.success(request, f"{course} is in the catalogue.")
    else:
        messages.error(
            request, "The course was not added: " + "; ".join(e for errors in form.errors.values() for e in errors)
        )
    return redirect("network:training")


@login_required
@require_POST
def enrol(request, course_id):
    access.require(request.user, Permission.ENROL_IN_COURSE, object_type="network.enrolment")
    course = get_object_or_404(selectors.courses(request.user), pk=course_id)
    try:
        services.enrolment_create(actor=request.user, course=course)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"You are enrolled in {course}.")
    return redirect("network:training")


@login_required
def complete(request, pk):
    enrolment = _enrolment(request, pk, AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.ENROL_IN_COURSE, enrolment)
    form = CompletionForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_complete(actor=request.user, enrolment=enrolment, **form.cleaned_data)
        except (ValidationError, RuleRefused) as error:
            form.add_error(None, error.message if isinstance(error, RuleRefused) else error)
            status = 409 if isinstance(error, RuleRefused) else 400
        else:
            messages.success(request, "Completion recorded; a coordinator will verify the certificate.")
            return redirect("network:training")
    elif request.method == "POST":
        status = 400
    return render(request, "network/training/complete.html", {"form": form, "enrolment": enrolment}, status=status)


@login_required
@require_POST
def verify(request, pk):
    enrolment = _enrolment(request, pk, AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.VERIFY_TRAINING, enrolment)
    try:
        services.enrolment_verify(actor=request.user, enrolment=enrolment)
    except RuleRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"Verified: {enrolment}.")
    return redirect("network:training")


@login_required
def certificate(request, pk):
    """The certificate file, to its owner and their medical group's coordinators; 404 for anyone else."""
    enrolment = _enrolment(request, pk)
    access.require(request.user, Permission.VIEW_TRAINING, enrolment)
    return certificate_response(enrolment)


@login_required
def transcript(request, clinician_id=None):
    access.require(request.user, Permission.VIEW_TRAINING, object_type="network.transcript")
    clinicians = access.visible_clinicians(request.user)
    clinician = get_object_or_404(clinicians, pk=clinician_id or request.user.pk)
    return render(request, "network/training/transcript.html", {"transcript": selectors.transcript(clinician)})

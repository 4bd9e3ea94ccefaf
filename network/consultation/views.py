"""Peer consultation pages: the caller's groups, a group's meetings and presentations, a meeting (attendance,
.ics), and presenting a case from a patient on the presenter's own care team. Thin: access, a form, one service."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied
from patients.access import visible_patients

from . import selectors, services
from .api import ics_response
from .forms import AttendanceForm, GroupForm, PresentationForm, ScheduleForm


def _one(request, queryset, pk, object_type, action=AuditEvent.Action.READ):
    found = queryset.filter(pk=pk).first()
    if found is None:
        audit_denied(request.user, action, object_type=object_type, object_id=pk)
        raise Http404("No such record, or it is not yours to see.")
    return found


@login_required
def group_list(request):
    """The caller's groups; a coordinator also forms new ones here."""
    access.require(request.user, Permission.VIEW_CONSULTATION, object_type="network.consultationgroup")
    form, status = None, 200
    if access.can(request.user, Permission.MANAGE_CONSULTATION_GROUPS):
        form = GroupForm(request.POST or None, clinicians=access.visible_clinicians(request.user))
    if request.method == "POST":
        access.require(request.user, Permission.MANAGE_CONSULTATION_GROUPS, object_type="network.consultationgroup")
        status = 400
        if form.is_valid():
            group = services.group_create(actor=request.user, **form.cleaned_data)
            return redirect("network:group", pk=group.pk)
    context = {"groups": selectors.visible_groups(request.user), "form": form}
    return render(request, "network/consultation/groups.html", context, status=status)


@login_required
def schedule(request, pk):
    """The facilitator schedules a series of meetings at the same local time."""
    access.require(request.user, Permission.VIEW_CONSULTATION, object_type="network.meeting")
    group = _one(request, selectors.visible_groups(request.user), pk, "network.consultationgroup")
    access.require_facilitator(request.user, group)
    form, status = ScheduleForm(request.POST or None), 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = {**form.cleaned_data, "starts_at": timezone.make_naive(form.cleaned_data["starts_at"])}
            try:
                services.meetings_schedule(actor=request.user, group=group, **data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Meetings scheduled.")
                return redirect("network:group", pk=group.pk)
    return render(request, "network/consultation/schedule.html", {"form": form, "group": group}, status=status)


@login_required
def group_detail(request, pk):
    access.require(request.user, Permission.VIEW_CONSULTATION, object_type="network.consultationgroup")
    group = _one(request, selectors.visible_groups(request.user), pk, "network.consultationgroup")
    show_cases = access.can(request.user, Permission.VIEW_PRESENTATIONS)
    context = {
        "group": group,
        "members": selectors.members(group),
        "meetings": group.meetings.all(),
        "presentations": selectors.visible_presentations(request.user).filter(group=group) if show_cases else None,
        "can_present": access.can(request.user, Permission.PRESENT_CASE),
        "is_facilitator": group.facilitator_id == request.user.pk,
        "now": timezone.now(),
    }
    return render(request, "network/consultation/group.html", context)


@login_required
def meeting_detail(request, pk):
    access.require(request.user, Permission.VIEW_CONSULTATION, object_type="network.meeting")
    meeting = selectors.meeting_detail(_one(request, selectors.visible_meetings(request.user), pk, "network.meeting"))
    started = meeting.starts_at <= timezone.now()
    form = None
    if meeting.group.facilitator_id == request.user.pk and started:
        attended = [row.clinician for row in meeting.attendance.all()]
        members = selectors.members(meeting.group)
        form = AttendanceForm(request.POST or None, members=members, initial={"attendees": attended})
    status = 200
    if request.method == "POST":
        access.require_facilitator(request.user, meeting.group, meeting)
        status = 409 if form is None else 400
        if form is None:
            messages.error(request, "Attendance is recorded once the meeting has started.")
        elif form.is_valid():
            services.attendance_record(actor=request.user, meeting=meeting, attendees=form.cleaned_data["attendees"])
            messages.success(request, "Attendance recorded.")
            return redirect("network:meeting", pk=meeting.pk)
    context = {
        "meeting": meeting,
        "form": form,
        "show_cases": access.can(request.user, Permission.VIEW_PRESENTATIONS),
    }
    return render(request, "network/consultation/meeting.html", context, status=status)


@login_required
def meeting_ics(request, pk):
    access.require(request.user, Permission.VIEW_CONSULTATION, object_type="network.meeting")
    return ics_response(_one(request, selectors.visible_meetings(request.user), pk, "network.meeting"))


@login_required
def present(request, pk):
    """Present a case to the group: the patient is chosen from the presenter's own care team."""
    access.require(request.user, Permission.PRESENT_CASE, object_type="network.presentation")
    group = _one(request, selectors.visible_groups(request.user), pk, "network.consultationgroup")
    form = PresentationForm(
        request.POST or None,
        patients=visible_patients(request.user).order_by("last_name", "first_name"),
        meetings=group.meetings.filter(starts_at__gte=timezone.now() - timedelta(days=1)),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                presentation = services.presentation_create(actor=request.user, group=group, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Your case is shared with the group, without the patient's identity.")
                return redirect("network:presentation", pk=presentation.pk)
    return render(request, "network/consultation/present.html", {"form": form, "group": group}, status=status)


@login_required
def presentation_detail(request, pk):
    access.require(request.user, Permission.VIEW_PRESENTATIONS, object_type="network.presentation")
    presentation = _one(request, selectors.visible_presentations(request.user), pk, "network.presentation")
    return render(request, "network/consultation/presentation.html", {"presentation": presentation})

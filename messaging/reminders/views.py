from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many
from patients import selectors as patient_selectors

from . import selectors, services
from .forms import ReminderPreferenceForm
from .models import Reminder


@login_required
def delivery_log(request):
    """The coordinator's reminder log: by status and kind, newest first, with why each failure failed."""
    access.require(request.user, Permission.VIEW_REMINDERS, object_type="reminders.reminder")
    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    reminders = selectors.delivery_log(request.user, status=status, kind=kind)
    page = Paginator(reminders, selectors.LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record_many(request.user, AuditEvent.Action.LIST, page.object_list)
    context = {
        "page": page,
        "status": status if status in Reminder.Status.values else "",
        "kind": kind if kind in Reminder.Kind.values else "",
        "statuses": Reminder.Status.choices,
        "kinds": Reminder.Kind.choices,
        "counts": selectors.status_counts(request.user),
    }
    return render(request, "reminders/log.html", context)


@login_required
def preferences(request):
    """The patient's quiet hours and optional reminders (also shown on their profile page)."""
    access.require(request.user, Permission.EDIT_OWN_PROFILE, object_type="reminders.reminderpreference")
    patient = patient_selectors.own_patient_record(request.user)
    if patient is None:
        return redirect("dashboards:dashboard")
    form = ReminderPreferenceForm(request.POST or None, preference=selectors.preference_for(patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_save(
                actor=request.user,
                patient=patient,
                quiet_start=form.cleaned_data["quiet_start"],
                quiet_end=form.cleaned_data["quiet_end"],
                muted_kinds=form.muted_kinds(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your reminder settings are saved.")
            return redirect("patients:patient-profile")
    return render(request, "reminders/preferences.html", {"form": form, "patient": patient})

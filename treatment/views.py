from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from kapcare import access
from kapcare.access import Permission
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from patients import selectors

DASHBOARD_PAGE_SIZE = 50


@login_required
def dashboard(request):
    """Each role's home: clinicians and coordinators see their patients; a patient sees their own page."""
    user = request.user
    if user.role == User.Role.PATIENT:
        patient = selectors.patients_for_list(user).first()
        if patient is not None:
            audit_record(user, AuditEvent.Action.READ, patient)
        return render(request, "treatment/dashboard_patient.html", {"patient": patient})
    if user.role == User.Role.ADMIN:
        return render(request, "treatment/dashboard_admin.html")
    page = Paginator(selectors.patients_for_list(user), DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record_many(user, AuditEvent.Action.LIST, page.object_list)
    return render(request, "treatment/dashboard_clinical.html", {"page": page})


@login_required
def patient_chart(request, patient_id):
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_PATIENT, patient)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    return render(
        request,
        "treatment/chart.html",
        {"patient": patient, "can_view_history": access.can(request.user, Permission.VIEW_ACCESS_HISTORY)},
    )

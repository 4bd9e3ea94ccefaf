"""Portal pages for prescriptions: the patient's prescriptions on their chart (the patient sees their own, the
clinicians their team's) and the printable PDF. Thin: look up through access, read through selectors."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from patients import selectors as patient_selectors

from . import pdf, selectors


def _patient(request, patient_id):
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_PRESCRIPTIONS, patient)
    return patient


@login_required
def prescription_list(request, patient_id):
    patient = _patient(request, patient_id)
    prescriptions = selectors.prescriptions_of(request.user, patient)
    audit_record_many(request.user, AuditEvent.Action.READ, prescriptions)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {"patient": patient, "prescriptions": prescriptions}
    return render(request, "treatment/prescriptions/list.html", context)


@login_required
def prescription_pdf(request, patient_id, prescription_id):
    patient = _patient(request, patient_id)
    rx = next((p for p in selectors.prescriptions_of(request.user, patient) if p.pk == prescription_id), None)
    if rx is None:
        raise Http404("No such prescription of this patient.")
    audit_record(request.user, AuditEvent.Action.READ, rx, fields=["pdf"])
    response = HttpResponse(pdf.prescription_pdf(rx), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="prescription-{rx.pk}.pdf"'
    return response

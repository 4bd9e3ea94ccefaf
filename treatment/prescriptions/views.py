"""Portal pages for prescriptions: the patient's prescriptions on their chart (the patient sees their own, the
clinicians their team's), one prescription with its cancellation, the printable PDF, and the prescriber's pages:
prescribe from the signed dose plan and attest a PDMP check. Thin: look up through access, validate with a form,
call the service the API calls; a refused rule shows its sentence (status 409, like the API)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from patients import selectors as patient_selectors

from . import pdf, selectors, services
from .forms import CancelForm, PDMPCheckForm, PrescribeForm
from .web import status_of, submit


def _patient(request, patient_id, permission=Permission.VIEW_PRESCRIPTIONS):
    action = AuditEvent.Action.UPDATE if request.method == "POST" else AuditEvent.Action.READ
    patient = patient_selectors.patient_for_chart(request.user, patient_id, action=action)
    access.require(request.user, permission, patient)
    return patient


def _prescription(request, patient, prescription_id):
    rx = selectors.prescription_of(request.user, patient, prescription_id)
    if rx is None:
        raise Http404("No such prescription of this patient.")
    return rx


@login_required
def prescription_list(request, patient_id):
    patient = _patient(request, patient_id)
    prescriptions = selectors.prescriptions_of(request.user, patient)
    audit_record_many(request.user, AuditEvent.Action.READ, prescriptions)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "prescriptions": prescriptions,
        "can_prescribe": access.can(request.user, Permission.WRITE_PRESCRIPTION),
    }
    return render(request, "treatment/prescriptions/list.html", context)


@login_required
def prescription_new(request, patient_id):
    """Prescribe from the active signed dose plan: the derived quantity prefilled, the encounter, the last
    in-person visit and the PDMP check shown, the telemedicine attestation asked for where the policy needs it."""
    user = request.user
    patient = _patient(request, patient_id, Permission.WRITE_PRESCRIPTION)
    facts = selectors.prescribing_facts(user, patient)
    form = PrescribeForm(request.POST or None, facts=facts, initial=PrescribeForm.initial_for(facts))
    refusal = None
    if request.method == "POST":
        rx, refusal = submit(
            form,
            lambda: services.prescription_issue(actor=user, patient=patient, data=form.data_for_service()),
        )
        if rx is not None:
            messages.success(request, "Prescription issued. Print it or send it to the pharmacy.")
            return redirect("treatment:patient-prescription", patient.pk, rx.pk)
    else:
        audit_record(user, AuditEvent.Action.READ, patient)
    context = {"patient": patient, "facts": facts, "form": form, "refusal": refusal}
    return render(request, "treatment/prescriptions/new.html", context, status=status_of(refusal, form))


@login_required
def pdmp_check_new(request, patient_id):
    """Attest a PDMP check (date, state, result, note) and see the earlier ones."""
    user = request.user
    patient = _patient(request, patient_id, Permission.WRITE_PRESCRIPTION)
    form = PDMPCheckForm(request.POST or None, initial=PDMPCheckForm.initial_for(patient))
    refusal = None
    if request.method == "POST":
        check, refusal = submit(
            form, lambda: services.pdmp_check_record(actor=user, patient=patient, **form.cleaned_data)
        )
        if check is not None:
            messages.success(request, f"PDMP check of {check.checked_on:%b %-d, %Y} attested.")
            return redirect("treatment:patient-prescription-new", patient.pk)
    checks = list(selectors.visible_pdmp_checks(user).filter(patient=patient)[:10])
    audit_record_many(user, AuditEvent.Action.READ, checks)
    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, patient)
    context = {"patient": patient, "form": form, "checks": checks, "refusal": refusal}
    return render(request, "treatment/prescriptions/pdmp_check.html", context, status=status_of(refusal, form))


@login_required
def prescription_detail(request, patient_id, prescription_id):
    """One prescription, what went to the pharmacy, its fills; the prescriber cancels it (a reason required)."""
    user = request.user
    patient = _patient(request, patient_id)
    rx = _prescription(request, patient, prescription_id)
    can_cancel = access.can(user, Permission.WRITE_PRESCRIPTION)
    form = CancelForm(request.POST or None) if can_cancel else None
    refusal = None
    if request.method == "POST":
        access.require(user, Permission.WRITE_PRESCRIPTION, rx)
        cancelled, refusal = submit(
            form, lambda: services.prescription_cancel(actor=user, prescription=rx, **form.cleaned_data)
        )
        if cancelled is not None:
            messages.success(request, "Prescription cancelled; the reason is on the pharmacy record.")
            return redirect("treatment:patient-prescription", patient.pk, rx.pk)
    else:
        audit_record(user, AuditEvent.Action.READ, rx)
    context = {"patient": patient, "rx": rx, "form": form if rx.is_active else None, "refusal": refusal}
    return render(request, "treatment/prescriptions/detail.html", context, status=status_of(refusal, form))


@login_required
def prescription_pdf(request, patient_id, prescription_id):
    patient = _patient(request, patient_id)
    rx = _prescription(request, patient, prescription_id)
    audit_record(request.user, AuditEvent.Action.READ, rx, fields=["pdf"])
    response = HttpResponse(pdf.prescription_pdf(rx), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="prescription-{rx.pk}.pdf"'
    return response

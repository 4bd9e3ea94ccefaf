"""The patient's consent and education pages, and the care team's view of them. Thin: access, a form,
one service, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.forms import add_service_errors

from . import selectors, services
from .forms import ConsentSignForm, SetPasswordForm
from .services import InvitationUnusable


def _own_patient(request, permission):
    """The signed-in patient's record. Other roles are refused (403, audited): nobody acts for the patient."""
    access.require(request.user, permission, object_type="patients.patient")
    patient = selectors.own_patient_record(request.user)
    if patient is None:
        raise Http404("Your account is not linked to a patient record yet. Please contact your therapist.")
    return patient


@login_required
def consent_list(request):
    patient = _own_patient(request, Permission.SIGN_CONSENT)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    return render(
        request, "patients/consent_list.html", {"patient": patient, "statuses": selectors.consent_status(patient)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_detail(request, document_id):
    patient = _own_patient(request, Permission.SIGN_CONSENT)
    document = selectors.consent_document_for_patient(document_id)
    if document is None:
        raise Http404("No such consent document.")
    current = next((d for d in selectors.current_consent_documents() if d.kind == document.kind), None)
    signature = selectors.consent_signature(patient, document)
    can_sign = signature is None and current is not None and current.pk == document.pk
    form = ConsentSignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_sign(
                actor=request.user, patient=patient, document=document, typed_name=form.cleaned_data["typed_name"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Thank you. You signed “{document.title}”.")
            return redirect("consent-list")
    else:
        audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "document": document,
        "current": current,
        "signature": signature,
        "can_sign": can_sign,
        "form": form,
    }
    return render(request, "patients/consent_detail.html", context, status=400 if form.errors else 200)


@login_required
def education_list(request):
    patient = _own_patient(request, Permission.MARK_EDUCATION_READ)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    modules = selectors.education_progress(patient)
    return render(
        request,
        "patients/education_list.html",
        {"patient": patient, "modules": modules, "read_count": sum(1 for m in modules if m.read_at)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def education_detail(request, slug):
    patient = _own_patient(request, Permission.MARK_EDUCATION_READ)
    module = selectors.education_module(slug)
    if module is None:
        raise Http404("No such module.")
    if request.method == "POST":
        services.education_mark_read(actor=request.user, patient=patient, module=module)
        messages.success(request, f"“{module.title}” is marked as read.")
        return redirect("education-list")
    audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {"patient": patient, "module": module, "read_at": selectors.education_read_at(patient, module)}
    return render(request, "patients/education_detail.html", context)


@login_required
def patient_consent_status(request, patient_id):
    """The care team's and coordinator's view of a patient's consents and education (the chart's partial)."""
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.READ)
    access.require(request.user, Permission.VIEW_CONSENT_STATUS, patient)
    audit_record(request.user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "consent_status": selectors.consent_status(patient),
        "education_progress": selectors.education_progress(patient),
    }
    return render(request, "patients/patient_consent_status.html", context)


# Invitations: the link from the e-mail, then a password, then the portal.
INVITATION_SESSION_KEY = "kapcare_invitation"


def invitation_open(request, token):
    """Keep the token out of the address bar, the history and Referer headers from here on."""
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("invitation-accept")


def invitation_accept(request):
    token = request.session.get(INVITATION_SESSION_KEY, "")
    if request.user.is_authenticated:
        return render(request, "patients/invitation_signed_in.html", status=409)
    try:
        invitation = services.invitation_for_token(token)
    except InvitationUnusable as unusable:
        return _invitation_unusable(request, unusable)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(token=token, password=form.cleaned_data["password1"])
        except ValidationError as error:
            form.add_error("password1", error)
        except InvitationUnusable as unusable:
            return _invitation_unusable(request, unusable)
        else:
            del request.session[INVITATION_SESSION_KEY]
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to KAPCare. Here is what to do next.")
            return redirect(settings.LOGIN_REDIRECT_URL)
    audit_record(request.user, AuditEvent.Action.READ, invitation)
    return render(
        request, "patients/invitation_accept.html", {"form": form, "first_name": invitation.patient.first_name}
    )


def _invitation_unusable(request, unusable):
    can_ask = unusable.invitation is not None and unusable.reason in ("expired", "replaced")
    return render(
        request, "patients/invitation_unusable.html", {"reason": unusable.reason, "can_ask": can_ask}, status=410
    )


@require_POST
def invitation_request_new(request):
    token = request.session.get(INVITATION_SESSION_KEY, "")
    try:
        services.invitation_for_token(token)
    except InvitationUnusable as unusable:
        if unusable.invitation is not None and unusable.reason in ("expired", "replaced"):
            services.invitation_request_new(invitation=unusable.invitation)
            request.session.pop(INVITATION_SESSION_KEY, None)
            return render(request, "patients/invitation_requested.html")
    return redirect("invitation-accept")

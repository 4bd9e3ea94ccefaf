"""The patient's referral, profile, consent and education pages, the care team's view of them and the
coordinator's assignment of clinicians. Thin: access, a form, one service, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kapcare import access, request_context
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record, audit_record_many
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused

from . import selectors, services
from .access import visible_reconciliations
from .forms import (
    AssignPrescriberForm,
    AssignTherapistForm,
    ConsentSignForm,
    ProfileForm,
    ReconciliationResolveForm,
    ReferralForm,
    SetPasswordForm,
)
from .models import ReferralReconciliation
from .services import DateOfBirthMismatch, InvitationUnusable


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
                actor=request.user,
                patient=patient,
                document=document,
                typed_name=form.cleaned_data["typed_name"],
                signer_session=request_context.session_reference(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Thank you. You signed “{document.title}”.")
            return redirect("patients:consent-list")
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
        return redirect("patients:education-list")
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
    return redirect("patients:invitation-accept")


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
            user = services.invitation_accept(
                token=token, password=form.cleaned_data["password1"], date_of_birth=form.cleaned_data["date_of_birth"]
            )
        except ValidationError as error:
            form.add_error("password1", error)
        except DateOfBirthMismatch as mismatch:
            if not mismatch.remaining:
                return _invitation_unusable(request, InvitationUnusable("locked"))
            form.add_error("date_of_birth", _wrong_date_of_birth(mismatch.remaining))
            return render(
                request,
                "patients/invitation_accept.html",
                {"form": form, "first_name": invitation.patient.first_name},
                status=400,
            )
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


def _wrong_date_of_birth(remaining):
    tries = "1 more try" if remaining == 1 else f"{remaining} more tries"
    return (
        "This date of birth does not match the one your care team has. Check it and try again "
        f"({tries} with this link), or ask your therapist to check the date on your record."
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
            if services.invitation_request_new(invitation=unusable.invitation) is None:
                return _invitation_unusable(request, InvitationUnusable("locked"))
            request.session.pop(INVITATION_SESSION_KEY, None)
            return render(request, "patients/invitation_requested.html")
    return redirect("patients:invitation-accept")


# Identity changes: the chart's and the profile's log of who changed the patient's details.
IDENTITY_CHANGES_PAGE_SIZE = 50


@login_required
def patient_identity_changes(request, patient_id):
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.READ)
    changes = selectors.identity_changes(request.user, patient)
    page = Paginator(changes, IDENTITY_CHANGES_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(request.user, AuditEvent.Action.READ, patient)
    return render(request, "patients/identity_changes.html", {"patient": patient, "page": page})


# The coordinators' reconciliation queue: referrals of addresses KAPCare already knew.
RECONCILIATION_PAGE_SIZE = 50


@login_required
def reconciliation_queue(request):
    access.require(request.user, Permission.RECONCILE_REFERRAL, object_type="patients.referralreconciliation")
    show = request.GET.get("status")
    status = show if show in ReferralReconciliation.Status.values else ReferralReconciliation.Status.PENDING
    entries = selectors.reconciliations_for_list(request.user, status=status)
    page = Paginator(entries, RECONCILIATION_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record_many(request.user, AuditEvent.Action.LIST, page.object_list)
    return render(
        request,
        "patients/reconciliation_queue.html",
        {"page": page, "status": status, "statuses": ReferralReconciliation.Status.choices},
    )


@login_required
@require_POST
def reconciliation_resolve(request, entry_id, decision):
    entry = access.get_visible(
        visible_reconciliations(request.user),
        entry_id,
        user=request.user,
        action=AuditEvent.Action.UPDATE,
        model=ReferralReconciliation,
        patient_field="existing_patient_id",
    )
    form = ReconciliationResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("note", ["Check the note."])))
        return redirect("patients:reconciliation-queue")
    service = services.reconciliation_link if decision == "link" else services.reconciliation_decline
    try:
        entry = service(actor=request.user, entry=entry, note=form.cleaned_data["note"])
    except (ValidationError, RuleRefused) as error:
        messages.error(request, str(error.message) if isinstance(error, RuleRefused) else " ".join(error.messages))
    else:
        messages.success(request, f"The referral of {entry.full_name} is {entry.get_status_display().lower()}.")
    return redirect("patients:reconciliation-queue")


@login_required
def refer_patient(request):
    access.require(request.user, Permission.REFER_PATIENT, object_type="patients.patient")
    form = ReferralForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        fields, referral = form.split()
        try:
            patient = services.patient_refer(actor=request.user, referral=referral, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:  # the therapist's licence does not cover the client's state
            form.add_error(None, str(error))
            status = 409
        else:
            messages.success(request, f"{patient.first_name} is referred; an invitation to the portal is on its way.")
            if patient.prescriber_notice:  # no prescriber could be assigned: the coordinator's queue has it
                messages.warning(request, patient.prescriber_notice)
            return redirect("dashboards:patient-chart", patient.pk)
    return render(request, "patients/refer.html", {"form": form}, status=status)


def _assign(request, patient_id, *, permission, form_class, field, assign):
    """A coordinator puts a clinician on the care team (the previous one in that role leaves it)."""
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, permission, patient)
    form = form_class(request.POST, patient=patient)
    if form.is_valid():
        try:
            member = assign(actor=request.user, patient=patient, **{field: form.cleaned_data[field]})
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{member.clinician} is now {patient.first_name}'s {field}.")
    else:
        messages.error(request, f"Choose a {field} from the list.")
    return redirect("dashboards:patient-chart", patient.pk)


@login_required
@require_POST
def assign_prescriber(request, patient_id):
    return _assign(
        request,
        patient_id,
        permission=Permission.ASSIGN_PRESCRIBER,
        form_class=AssignPrescriberForm,
        field="prescriber",
        assign=services.prescriber_assign,
    )


@login_required
@require_POST
def assign_therapist(request, patient_id):
    """A coordinator matches the patient with a therapist (or a new one); open alerts pass to them."""
    return _assign(
        request,
        patient_id,
        permission=Permission.ASSIGN_THERAPIST,
        form_class=AssignTherapistForm,
        field="therapist",
        assign=services.therapist_assign,
    )


@login_required
@require_POST
def resend_invitation(request, patient_id):
    patient = selectors.patient_for_chart(request.user, patient_id, action=AuditEvent.Action.UPDATE)
    access.require(request.user, Permission.INVITE_PATIENT, patient)
    try:
        services.invitation_send(actor=request.user, patient=patient)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"A new invitation is on its way to {patient.first_name}. Earlier links no longer work."
        )
    return redirect("dashboards:patient-chart", patient.pk)


@login_required
def patient_profile(request):
    access.require(request.user, Permission.EDIT_OWN_PROFILE, object_type="patients.patient")
    patient = selectors.own_patient_record(request.user)
    if patient is None:
        return redirect("dashboards:dashboard")
    form = ProfileForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        try:
            services.patient_update_profile(actor=request.user, patient=patient, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("dashboards:dashboard")
    else:
        audit_record(request.user, AuditEvent.Action.READ, patient)
    return render(request, "patients/profile.html", {"form": form, "patient": patient})

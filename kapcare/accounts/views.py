"""The credentials page: a clinician's own credentials, and for a coordinator those of the medical group's
clinicians, where the coordinator records a referral exception. Thin: access decides, one service writes."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record_many
from kapcare.forms import add_service_errors
from kapcare.us_states import USState

from . import services
from .models import ReferralStateException


class ReferralExceptionForm(forms.Form):
    state = forms.ChoiceField(choices=USState.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


def _clinicians(user):
    return (
        access.visible_clinicians(user)
        .select_related("organization")
        .prefetch_related(
            "licences",
            "dea_registrations",
            "kap_trainings",
            Prefetch(
                "referral_state_exceptions",
                queryset=ReferralStateException.objects.filter(revoked_at__isnull=True).select_related("granted_by"),
            ),
        )
        .order_by("role", "last_name", "first_name")
    )


@login_required
def credentials_page(request, *, form=None, status=200):
    access.require(request.user, Permission.VIEW_CREDENTIALS, object_type="accounts.user")
    clinicians = list(_clinicians(request.user))
    audit_record_many(request.user, AuditEvent.Action.READ, clinicians)
    can_grant = access.can(request.user, Permission.GRANT_REFERRAL_EXCEPTION)
    for clinician in clinicians:
        if can_grant and clinician.role == clinician.Role.THERAPIST:
            mine = form is not None and form.therapist_id == clinician.pk
            clinician.exception_form = form if mine else ReferralExceptionForm(auto_id=f"id_{clinician.pk}_%s")
    context = {"clinicians": clinicians, "form_for": form and form.therapist_id}
    return render(request, "accounts/credentials.html", context, status=status)


@login_required
@require_POST
def referral_exception_grant(request, clinician_id):
    therapist = access.visible_clinicians(request.user).filter(pk=clinician_id).first()
    if therapist is None:
        audit_denied(request.user, AuditEvent.Action.CREATE, object_type="accounts.user", object_id=clinician_id)
        raise Http404("No such clinician in your medical group.")
    access.require(request.user, Permission.GRANT_REFERRAL_EXCEPTION, therapist)
    form = ReferralExceptionForm(request.POST, auto_id=f"id_{therapist.pk}_%s")
    form.therapist_id = therapist.pk
    if form.is_valid():
        try:
            services.referral_exception_grant(
                actor=request.user,
                therapist=therapist,
                state=form.cleaned_data["state"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"The exception for {therapist} is on record.")
            return redirect("clinician-credentials")
    return credentials_page(request, form=form, status=400)

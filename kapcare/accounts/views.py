"""Account pages: the credentials page (a clinician's own credentials, and for a coordinator those of the
medical group's clinicians, where the coordinator records a referral exception) and the API tokens page.
Thin: access decides, one service writes."""

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from knox.models import AuthToken

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record_many
from kapcare.forms import add_service_errors
from kapcare.us_states import USState

from . import services
from .forms import ApiTokenForm
from .models import ApiToken, ReferralStateException


class ReferralExceptionForm(forms.Form):
    state = forms.ChoiceField(choices=USState.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)


def _clinicians(user):
    return (
        access.visible_clinicians(user)
        .select_related("organization", "clinician_profile__approved_by")
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


def _page(request, form, new_token=None, status=200):
    tokens = (
        AuthToken.objects.filter(user=request.user, expiry__gt=timezone.now())
        .select_related("details")
        .order_by("-created")
    )
    context = {"form": form, "tokens": tokens, "new_token": new_token}
    return render(request, "account/api_tokens.html", context, status=status)


@login_required
@reauthentication_required(allow_get=True)
def api_tokens(request):
    """The signed-in person's own API tokens: create one (shown once), see which exist, revoke them.

    Creating one asks for the password (or code) again unless given in the last few minutes: a token outlives the
    session, so someone at an unlocked workstation must not be able to mint one."""
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            _, token = services.api_token_create(
                actor=request.user, user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _page(request, ApiTokenForm(), new_token=token)
    return _page(request, form, status=400)


@login_required
@require_POST
def api_token_revoke(request, token_id):
    api_token = get_object_or_404(
        ApiToken.objects.select_related("auth_token"), pk=token_id, auth_token__user=request.user
    )
    services.api_token_revoke(actor=request.user, api_token=api_token)
    messages.success(request, f"The token “{api_token.name}” was revoked; it no longer works.")
    return redirect("api-tokens")

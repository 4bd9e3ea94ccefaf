"""Pages of joining the network: the public form and the applicant's link (no account), and the coordinator's
review. Thin: access decides, one service writes."""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record, audit_record_many
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused

from . import selectors, services
from .forms import (
    CheckForm,
    CorrectionsForm,
    DecisionForm,
    DeclarationForm,
    InviteForm,
    JoinForm,
    credential_formsets,
    filled,
)
from .models import Application

PAGE_SIZE = 25


def _declaration_valid(form, licences, dea):
    return all([form.is_valid(), licences.is_valid(), dea.is_valid()])


def _with_service_errors(form, call):
    """Run the service; its field errors go on the form (those about credentials at the top)."""
    try:
        return call()
    except ValidationError as error:
        add_service_errors(form, error)
        return None


def join(request):
    """The public "join the network" page: makes an application, never an account. Rate limited per address and
    per e-mail; the answer is the same whether the e-mail is known or not."""
    form = JoinForm(request.POST or None)
    licences, dea = credential_formsets(request.POST or None)
    status = 200
    if request.method == "POST":
        key = (request.POST.get("email") or "").strip().lower()[:254]
        if not ratelimit.consume(request, action="network_application", key=key):
            return render(request, "network/joining/too_many.html", status=429)
        if _declaration_valid(form, licences, dea):
            data = form.cleaned_data
            done = _with_service_errors(
                form,
                lambda: (
                    services.application_apply(
                        email=data["email"],
                        medical_group=data["medical_group"],
                        role=data["role"],
                        fields=data,
                        licences=filled(licences),
                        dea_registrations=filled(dea),
                    )
                    or True
                ),
            )
            if done:
                return render(request, "network/joining/received.html")
        status = 400
    context = {"form": form, "licences": licences, "dea": dea, "public": True}
    return render(request, "network/joining/apply.html", context, status=status)


def apply_link(request, token):
    """The applicant's own link: fill in an invited application, or correct one as the coordinator asked."""
    try:
        application = services.application_for_link(token)
    except services.LinkUnusable:
        return render(request, "network/joining/link_unusable.html", status=404)
    form = DeclarationForm(request.POST or None, instance=application)
    licences, dea = credential_formsets(request.POST or None, application)
    status = 200
    if request.method == "POST":
        if _declaration_valid(form, licences, dea):
            done = _with_service_errors(
                form,
                lambda: services.application_complete(
                    token=token, fields=form.cleaned_data, licences=filled(licences), dea_registrations=filled(dea)
                ),
            )
            if done:
                return render(request, "network/joining/received.html")
        status = 400
    context = {"form": form, "licences": licences, "dea": dea, "application": application}
    return render(request, "network/joining/apply.html", context, status=status)


@login_required
def application_list(request, *, invite_form=None, status=200):
    access.require(request.user, Permission.REVIEW_APPLICATION, object_type="network.application")
    show = request.GET.get("status")
    shown = show if show in Application.Status.values else Application.Status.SUBMITTED
    page = Paginator(selectors.applications_for(request.user, status=shown), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    audit_record_many(request.user, AuditEvent.Action.LIST, page.object_list)
    context = {
        "page": page,
        "status": shown,
        "statuses": Application.Status.choices,
        "invite_form": invite_form or InviteForm(),
    }
    return render(request, "network/joining/application_list.html", context, status=status)


@login_required
@require_POST
def application_invite(request):
    access.require(request.user, Permission.REVIEW_APPLICATION, object_type="network.application")
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            application = services.application_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{application.email} is invited to apply; the link is on its way.")
            return redirect("network:network-applications")
    return application_list(request, invite_form=form, status=400)


def _application(request, pk, action):
    application = selectors.application_detail(request.user, pk)
    if application is None:
        audit_denied(request.user, action, object_type="network.application", object_id=pk)
        raise Http404("No such application to your medical group.")
    return application


@login_required
def application_detail(request, pk, *, forms=None, status=200):
    access.require(request.user, Permission.REVIEW_APPLICATION, object_type="network.application")
    application = _application(request, pk, AuditEvent.Action.READ)
    audit_record(request.user, AuditEvent.Action.READ, application)
    forms = forms or {}
    items = [
        (key, label, value, check, forms.get(key) or CheckForm(initial={"item": key}, auto_id=f"id_{n}_%s"))
        for n, (key, label, value, check) in enumerate(selectors.verification_of(application))
    ]
    context = {
        "application": application,
        "items": items,
        "open": application.status == Application.Status.SUBMITTED,
        "corrections_form": forms.get("corrections") or CorrectionsForm(),
        "decision_form": forms.get("decision") or DecisionForm(application=application),
    }
    return render(request, "network/joining/application_detail.html", context, status=status)


STEPS = {
    "check": (CheckForm, services.credential_check, "The check is on record."),
    "corrections": (CorrectionsForm, services.application_request_corrections, "The applicant is asked to correct."),
    "approve": (DecisionForm, services.application_approve, "Approved: the account is open and the link sent."),
    "decline": (DecisionForm, services.application_decline, "Declined; the applicant is told."),
}


@login_required
@require_POST
def application_step(request, pk, step):
    """A coordinator's step on an application: check a credential, ask for corrections, approve, decline."""
    access.require(request.user, Permission.REVIEW_APPLICATION, object_type="network.application")
    if step not in STEPS:
        raise Http404("No such step.")
    application = _application(request, pk, AuditEvent.Action.UPDATE)
    form_class, service, done = STEPS[step]
    kwargs = {"application": application} if form_class is DecisionForm else {}
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        data = dict(form.cleaned_data)
        if step == "decline":
            data.pop("practice")
        try:
            service(actor=request.user, application=application, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:
            form.add_error(None, error.message)
            return _detail_with(request, pk, step, form, 409)
        else:
            messages.success(request, done)
            return redirect("network:network-application", pk)
    return _detail_with(request, pk, step, form, 400)


def _detail_with(request, pk, step, form, status):
    key = form.data.get("item", "") if step == "check" else ("decision" if step in ("approve", "decline") else step)
    return application_detail(request, pk, forms={key: form}, status=status)

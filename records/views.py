"""The portal's pages for records that leave: ask for a copy, watch it being prepared, download it."""

import base64
import hashlib
import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.forms import add_service_errors
from kapcare.rules import RuleRefused

from . import selectors, services
from .forms import ReleaseForm
from .models import RecordExport


@login_required
@require_http_methods(["GET", "POST"])
def patient_record_export(request, patient_id):
    """The patient's "Download my record", or a clinician's "Release of information"."""
    user = request.user
    action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
    patient = selectors.patient_for_export(user, patient_id, action=action)
    is_release = not user.is_patient
    form = ReleaseForm(request.POST or None) if is_release else None
    refusal = None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            _, token = services.record_export_request(
                actor=user, patient=patient, **(form.cleaned_data if form else {})
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except RuleRefused as error:
            refusal = str(error)
        else:
            return redirect("records:record-export", token=token)
    if request.method != "POST":
        audit_record(user, AuditEvent.Action.READ, patient)
    context = {
        "patient": patient,
        "form": form,
        "is_release": is_release,
        "refusal": refusal,
        "authorization": selectors.release_authorization(patient) if is_release else None,
        "exports": selectors.recent_exports(user, patient),
        "valid_hours": int(RecordExport.VALID_FOR.total_seconds() // 3600),
    }
    status = 409 if refusal else 400 if form is not None and form.errors else 200
    return render(request, "records/export_request.html", context, status=status)


STYLE = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


def _print_view_policy(html: bytes) -> str:
    """The print view is one self-contained file (it is also saved and printed as is), so its stylesheet is
    inline: allow exactly that stylesheet by its hash, and nothing else at all."""
    styles = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()}'"
        for match in STYLE.finditer(html)
    )
    styles = styles or "'none'"
    return (
        f"default-src 'none'; style-src {styles}; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _gone(request, export):
    return render(request, "records/export_gone.html", {"export": export}, status=410)


@login_required
def record_export(request, token):
    """The page the request leads to: the status (polled while it is prepared) and, when ready, the downloads."""
    export = selectors.export_by_token(request.user, token)
    if export.is_expired():
        return _gone(request, export)
    audit_record(request.user, AuditEvent.Action.READ, export)
    return render(request, "records/export_status.html", {"export": export, "token": token})


@login_required
def record_export_status(request, token):
    """The status partial that htmx polls: no patient data, so not audited per poll."""
    export = selectors.export_by_token(request.user, token)
    if export.is_expired():
        return _gone(request, export)
    return render(request, "records/_export_progress.html", {"export": export, "token": token})


@login_required
def record_export_download(request, token, fmt):
    export = selectors.export_by_token(request.user, token)
    try:
        content, content_type, filename = services.record_export_download(actor=request.user, export=export, fmt=fmt)
    except services.ExportGone:
        return _gone(request, export)
    except RuleRefused as error:
        return render(
            request, "records/export_status.html", {"export": export, "token": token, "refusal": str(error)}, status=409
        )
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if fmt == RecordExport.Format.HTML else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if fmt == RecordExport.Format.HTML:
        response["Content-Security-Policy"] = _print_view_policy(content)
    response["Cache-Control"] = "no-store"
    return response

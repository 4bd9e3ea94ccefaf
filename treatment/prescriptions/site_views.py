"""Portal pages of the sites that hold ketamine for in-office dosing: the list of sites (coordinators add them and
say who works there; clinicians open the logs they keep) and a site's controlled-substance log (receipts,
administrations linked to their dosing session, witnessed waste, counts; running balance and discrepancy
report). The log's writes are the services the API calls; patients and coordinators never read it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied, audit_record, audit_record_many

from . import selectors, stock
from .forms import AdministrationForm, CountForm, ReceiptForm, StockSiteForm, WasteForm
from .models import StockEntry
from .web import status_of, submit


@login_required
def stock_sites(request):
    """Clinicians: the sites whose log they keep. Coordinators: the group's sites, and a form to add one."""
    user = request.user
    if request.method == "POST" or not access.can(user, Permission.KEEP_CONTROLLED_LOG):
        access.require(user, Permission.MANAGE_STOCK_SITES, object_type="treatment.stocksite")
    if not access.can(user, Permission.MANAGE_STOCK_SITES):
        sites = list(stock.visible_stock_sites(user))
        return render(request, "treatment/prescriptions/stock_sites.html", {"sites": sites, "keeps_log": True})
    clinicians = stock.group_clinicians(user.organization_id)
    form = StockSiteForm(request.POST or None, clinicians=clinicians)
    refusal = None
    if request.method == "POST":
        site, refusal = submit(form, lambda: stock.stock_site_create(actor=user, **form.cleaned_data))
        if site is not None:
            messages.success(request, f"Site “{site.name}” added.")
            return redirect("treatment:stock-sites")
    sites = list(stock.managed_stock_sites(user).prefetch_related("clinicians"))
    context = {"sites": sites, "form": form, "refusal": refusal}
    return render(request, "treatment/prescriptions/stock_sites.html", context, status=status_of(refusal, form))


def _site(request, site_id):
    """The site whose log the user keeps, or 404 (audited)."""
    access.require(request.user, Permission.KEEP_CONTROLLED_LOG, object_type="treatment.stocksite")
    site = stock.visible_stock_sites(request.user).filter(pk=site_id).first()
    if site is None:
        action = AuditEvent.Action.CREATE if request.method == "POST" else AuditEvent.Action.READ
        audit_denied(request.user, action, object_type="treatment.stocksite", object_id=site_id)
        raise Http404("No such site, or you do not keep its log.")
    return site


def _forms(request, site, lots):
    """The log's four forms, each under its own prefix; the posted one bound to the request."""
    user = request.user
    posted = request.POST.get("kind") if request.method == "POST" else None
    witnesses = stock.group_clinicians(site.medical_group_id).exclude(pk=user.pk)
    options = {
        StockEntry.Kind.RECEIPT: (ReceiptForm, {}),
        StockEntry.Kind.ADMINISTRATION: (
            AdministrationForm,
            {"lots": lots, "sessions": selectors.sessions_to_administer(user, site)},
        ),
        StockEntry.Kind.WASTE: (WasteForm, {"lots": lots, "witnesses": witnesses}),
        StockEntry.Kind.COUNT: (CountForm, {"lots": lots}),
    }
    return {
        kind: form_class(request.POST if kind == posted else None, prefix=kind, **kwargs)
        for kind, (form_class, kwargs) in options.items()
    }


def _write(user, site, kind, data):
    """One service per kind of entry, the same the API calls."""
    if kind == StockEntry.Kind.RECEIPT:
        return stock.stock_receive(actor=user, site=site, **data)
    if kind == StockEntry.Kind.COUNT:
        return stock.stock_count(actor=user, site=site, **data)
    if kind == StockEntry.Kind.WASTE:
        witness = selectors.clinician(data.pop("witness"))
        if witness is None:
            raise ValidationError({"witness": "Choose the clinician who witnessed the waste."})
        return stock.stock_waste(actor=user, site=site, witness=witness, **data)
    session = selectors.site_session(user, site, data.pop("session"))
    if session is None:
        raise ValidationError({"session": "Choose a dosing session of one of your patients of this medical group."})
    return stock.stock_administer(actor=user, site=site, session=session, **data)


@sensitive_post_parameters("waste-witness_password")
@login_required
def stock_log(request, site_id):
    user = request.user
    site = _site(request, site_id)
    lots = stock.lots_of(site)
    forms = _forms(request, site, [lot.lot for lot in lots])
    refusal, posted = None, forms.get(request.POST.get("kind")) if request.method == "POST" else None
    if request.method == "POST" and posted is None:
        refusal = "Choose what to record: a receipt, an administration, a waste or a count."
    elif posted is not None:
        entry, refusal = submit(posted, lambda: _write(user, site, request.POST["kind"], dict(posted.cleaned_data)))
        if entry is not None:
            messages.success(request, f"{entry.get_kind_display()} recorded: {entry.quantity_mg} mg, lot {entry.lot}.")
            return redirect("treatment:stock-log", site.pk)
    entries = selectors.stock_site_log(site)
    audit_record(user, AuditEvent.Action.READ, site)
    audit_record_many(user, AuditEvent.Action.READ, [entry for entry in entries if entry.patient_id])
    context = {
        "site": site,
        "lots": lots,
        "balance": sum((lot.balance for lot in lots), 0),
        "entries": entries,
        "discrepancies": stock.discrepancy_report(site),
        "forms": forms,
        "refusal": refusal,
    }
    return render(request, "treatment/prescriptions/stock_log.html", context, status=status_of(refusal, posted))

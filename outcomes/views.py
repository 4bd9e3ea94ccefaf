"""The outcomes page (figures, tables and charts for the patients one may see) and the research export's pages."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kapcare import access
from kapcare.access import Permission
from kapcare.audit.services import audit_report
from kapcare.rules import RuleRefused

from . import charts, filters, selectors, services


def _charts(report):
    names = {outcome.instrument: outcome.name for outcome in report.outcomes}
    change = {}
    for row in report.change:
        change.setdefault(names[row.instrument], []).append((row.doses, row.mean_change))
    rates = [
        (f"{outcome.name} {rate.name}", rate.percent, rate.interval)
        for outcome in report.outcomes
        for rate in (outcome.response, outcome.remission)
    ]
    events = [
        (f"{kind} ({severity.lower()})", per_100 or 0, None)
        for kind, severity, _n, _p, per_100 in report.adverse_events.rows
    ]
    return {
        "change": charts.line_chart(
            change,
            label="Mean change in score from the course baseline by number of dosing sessions",
            x_label="Dosing sessions completed",
            y_label="Mean change from baseline",
        ),
        "rates": charts.bar_chart(
            rates, label="Response and remission with 95% Wilson intervals", maximum=100, unit="%"
        ),
        "events": charts.bar_chart(events, label="Adverse events per 100 dosing sessions") if events else None,
    }


def _bad_filters(request, errors):
    return render(request, "outcomes/bad_filters.html", {"errors": errors}, status=400)


def _page(request, chosen, *, refusal=None, status=200):
    if connection.vendor != "postgresql":  # the zero-setup SQLite of `make run`: the figures' SQL is PostgreSQL's
        return render(request, "outcomes/needs_postgresql.html", status=503)
    report = selectors.outcomes_report(request.user, chosen)
    audit_report(request.user, object_type="outcomes.report", detail={"filters": chosen.as_query()})
    context = {
        "report": report,
        "charts": _charts(report),
        "form": filters.FilterForm(request.user, request.GET),
        "query": urlencode(chosen.as_query()),
        "can_export": access.can(request.user, Permission.EXPORT_RESEARCH),
        "exports": selectors.recent_research_exports(request.user),
        "refusal": refusal,
        "due_hours": selectors.DOCUMENTATION_DUE_HOURS,
    }
    return render(request, "outcomes/outcomes.html", context, status=status)


@login_required
@require_GET
def outcomes(request):
    access.require(request.user, Permission.VIEW_OUTCOMES, object_type="outcomes.report")
    chosen, errors = filters.parse(request.user, request.GET)
    if errors:
        return _bad_filters(request, errors)
    return _page(request, chosen)


@login_required
@require_POST
def research_export_request(request):
    """Ask for the research export of the cohort the page's filters (its query string) select."""
    access.require(request.user, Permission.EXPORT_RESEARCH, object_type="outcomes.researchexport")
    chosen, errors = filters.parse(request.user, request.GET)
    if errors:
        return _bad_filters(request, errors)
    try:
        _export, token = services.research_export_request(actor=request.user, filters=chosen)
    except RuleRefused as error:
        return _page(request, chosen, refusal=str(error), status=409)
    return redirect("outcomes:research-export", token=token)


def _gone(request):
    return render(request, "outcomes/export_gone.html", status=410)


def _export_page(request, token, template):
    export = selectors.research_export_by_token(request.user, token)
    if export.is_expired():
        return _gone(request)
    return render(request, template, {"export": export, "token": token})


@login_required
def research_export(request, token):
    return _export_page(request, token, "outcomes/export_status.html")


@login_required
def research_export_status(request, token):
    """The status partial htmx polls: no patient data."""
    return _export_page(request, token, "outcomes/_export_progress.html")


@login_required
def research_export_download(request, token, file):
    export = selectors.research_export_by_token(request.user, token)
    try:
        content, name = services.research_export_download(actor=request.user, export=export, file=file)
    except services.ExportGone:
        return _gone(request)
    except RuleRefused as error:
        context = {"export": export, "token": token, "refusal": str(error)}
        return render(request, "outcomes/export_status.html", context, status=409)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response

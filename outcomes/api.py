"""GET /api/v1/outcomes/ (the figures) and POST /api/v1/research-exports/ (ask for the research export)."""

from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import AuditedDenialsMixin
from kapcare.audit.services import audit_report

from . import filters, selectors, services

FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="Courses started on or after this date."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Courses started on or before this date."),
    OpenApiParameter("practice", OpenApiTypes.UUID, description="The referring therapy practice."),
    OpenApiParameter("clinician", OpenApiTypes.INT, description="A clinician ever on the care team."),
    OpenApiParameter("reason", OpenApiTypes.STR, description="A referral reason code."),
]


def _filters(request):
    chosen, errors = filters.parse(request.user, request.query_params)
    if errors:
        raise ValidationError({"filters": errors})
    return chosen


def report_json(report):
    data = asdict(report)
    data["courses"]["rates"] = report.courses.rates
    for outcome, raw in zip(report.outcomes, data["outcomes"], strict=True):
        for name in ("response", "remission"):
            rate = getattr(outcome, name)
            raw[name].update(percent=rate.percent, interval_95=rate.interval)
    return data


class OutcomesViewSet(AuditedDenialsMixin, viewsets.GenericViewSet):
    audit_object_type = "outcomes.report"

    @extend_schema(
        operation_id="outcomes_retrieve",
        summary="Outcome figures for the patients you may see",
        parameters=FILTER_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def list(self, request):
        access.require(request.user, Permission.VIEW_OUTCOMES, object_type=self.audit_object_type)
        chosen = _filters(request)
        if connection.vendor != "postgresql":
            detail = "The outcome figures are computed in PostgreSQL; this server runs on SQLite."
            return Response({"detail": detail, "code": "needs_postgresql"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        report = selectors.outcomes_report(request.user, chosen)
        audit_report(request.user, object_type=self.audit_object_type, detail={"filters": chosen.as_query()})
        return Response(report_json(report))


class ResearchExportViewSet(AuditedDenialsMixin, viewsets.GenericViewSet):
    audit_object_type = "outcomes.researchexport"

    @extend_schema(
        operation_id="research_exports_create",
        summary="Ask for the de-identified research export of the cohort the filters select",
        parameters=FILTER_PARAMETERS,
        request=None,
        responses={202: OpenApiTypes.OBJECT},
    )
    def create(self, request):
        access.require(request.user, Permission.EXPORT_RESEARCH, object_type=self.audit_object_type)
        export, token = services.research_export_request(actor=request.user, filters=_filters(request))
        url = request.build_absolute_uri(f"/outcomes/research-exports/{token}/")
        return Response(
            {"id": str(export.pk), "status": export.status, "status_url": url, "expires_at": export.expires_at},
            status=status.HTTP_202_ACCEPTED,
        )

"""Visits over the API. Lookups go through kapcare.access (outsider 404, role 403); a refused rule is a 409
naming itself (a time just taken: `visit_slot_taken`).

    GET  /visits/?patient=id                                       the patient, their clinicians, coordinators
    POST /visits/  {"patient", "kind", "starts_at", "encounter"?, "patient_state"?}   patient, prescriber, coordinator
    POST /visits/{id}/cancel/      {"reason"?}                     the same; a patient within the policy's notice
    POST /visits/{id}/reschedule/  {"starts_at"}                   the same
    GET  /visit-slots/?patient=id&kind=follow_up                   open times, in UTC and the patient's zone
"""

from zoneinfo import ZoneInfo

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from assessments.serializers import StrictFieldsMixin
from kapcare import access
from kapcare.access import Permission
from kapcare.us_states import USState
from patients.access import visible_patients
from patients.api_base import PATIENT_FILTER, PatientScopedViewSet
from treatment.course.api import CourseScopedViewSet

from . import selectors, services
from .models import Visit


class VisitSerializer(serializers.ModelSerializer):
    prescriber_name = serializers.CharField(source="prescriber.get_full_name", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "patient",
            "prescriber",
            "prescriber_name",
            "kind",
            "follow_up",
            "starts_at",
            "ends_at",
            "encounter",
            "video_link",
            "location",
            "patient_state",
            "status",
            "cancelled_at",
            "created_at",
        ]
        read_only_fields = fields


class VisitBookSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Visit.Kind.choices)
    starts_at = serializers.DateTimeField(help_text="One of the open times of /visit-slots/, ISO 8601.")
    encounter = serializers.ChoiceField(choices=Visit.Encounter.choices, default=Visit.Encounter.VIDEO)
    patient_state = serializers.ChoiceField(
        choices=USState.choices, required=False, default="", help_text="Where the patient will be; default: on file."
    )


class VisitCancelSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class VisitRescheduleSerializer(StrictFieldsMixin, serializers.Serializer):
    starts_at = serializers.DateTimeField()


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["visits"])
class VisitViewSet(CourseScopedViewSet):
    """Prescriber visits (evaluation, follow-ups) booked from open times of the prescriber's schedule."""

    scope = staticmethod(selectors.visible_visits)
    model = Visit
    serializer_class = VisitSerializer
    view_permission = Permission.VIEW_VISITS
    http_method_names = ["get", "post", "head", "options"]

    def _visit(self):
        visit = self.get_object()
        access.require(self.request.user, Permission.BOOK_VISIT, visit)
        return visit

    @extend_schema(request=VisitBookSerializer, responses={201: VisitSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.BOOK_VISIT)
        data = _valid(VisitBookSerializer, request.data)
        data.pop("patient")
        visit = services.visit_book(actor=request.user, patient=patient, **data)
        return Response(VisitSerializer(visit).data, status=201)

    @extend_schema(request=VisitCancelSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        visit = self._visit()
        reason = _valid(VisitCancelSerializer, request.data)["reason"]
        return Response(VisitSerializer(services.visit_cancel(actor=request.user, visit=visit, reason=reason)).data)

    @extend_schema(request=VisitRescheduleSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        visit = self._visit()
        starts_at = _valid(VisitRescheduleSerializer, request.data)["starts_at"]
        visit = services.visit_reschedule(actor=request.user, visit=visit, starts_at=starts_at)
        return Response(VisitSerializer(visit).data)


class SlotQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, default=Visit.Kind.FOLLOW_UP)


@extend_schema(tags=["visit-slots"])
class VisitSlotViewSet(PatientScopedViewSet):
    """Open times of the patient's prescriber for a visit of `kind`, for those who may book it."""

    scope = staticmethod(visible_patients)
    model = Visit

    @property
    def audit_object_type(self):
        return "treatment.visit"

    @extend_schema(
        parameters=[PATIENT_FILTER, OpenApiParameter("kind", str, description="evaluation or follow_up")],
        responses=serializers.ListSerializer(child=serializers.DictField()),
    )
    def list(self, request):
        patient = self.patient_from_query(Permission.BOOK_VISIT)  # 404 out of reach, 403 for a role that may not
        if patient is None:
            access.require(request.user, Permission.BOOK_VISIT, object_type=self.audit_object_type)
            raise serializers.ValidationError({"patient": "Name the patient: ?patient=<id>."})
        kind = _valid(SlotQuerySerializer, request.query_params)["kind"]
        prescriber = selectors.active_prescriber(patient)
        slots = selectors.open_slots(prescriber, kind) if prescriber else []
        zone = ZoneInfo(patient.time_zone)
        self.audited_read(patient)
        return Response(
            {
                "time_zone": patient.time_zone,
                "slots": [
                    {"starts_at": slot.isoformat(), "local": slot.astimezone(zone).isoformat()} for slot in slots
                ],
            }
        )

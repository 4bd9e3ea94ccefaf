"""Visits over the API. Lookups go through kapcare.access (outsider 404, role 403); a refused rule is a 409
naming itself (a time just taken: `visit_slot_taken`).

    GET  /visits/?patient=id                                       the patient, their clinicians, coordinators
    POST /visits/  {"patient", "kind", "starts_at", "encounter"?, "patient_state"?}   patient, prescriber, coordinator
    POST /visits/{id}/cancel/      {"reason"?}                     the same; a patient within the policy's notice
    POST /visits/{id}/reschedule/  {"starts_at"}                   the same
    GET  /visit-slots/?patient=id&kind=follow_up                   open times, in UTC and the patient's zone

A clinician's own availability, in their own time zone (other clinicians' rows are 404; other roles 403):

    GET, POST /availability/weekly-hours/   {"weekday", "start_time", "end_time"}
    GET, POST /availability/dates/          {"on", "start_time"?, "end_time"?, "note"?}   no times: a day off
    GET, POST /availability/time-off/       {"starts_at", "ends_at", "note"?}
    GET, DELETE /availability/<kind>/{id}/
"""

from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from assessments.serializers import StrictFieldsMixin
from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import NonPatientViewSet
from kapcare.us_states import USState
from patients.access import visible_patients
from patients.api_base import PATIENT_FILTER, PatientScopedViewSet
from treatment.course.api import CourseScopedViewSet

from . import selectors, services
from .models import DateHours, TimeOff, Visit, WeeklyHours


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


# The clinician's own availability ---------------------------------------------------------------------------


class WeeklyHoursSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    time_zone = serializers.CharField(source="schedule.time_zone", read_only=True)

    class Meta:
        model = WeeklyHours
        fields = ["id", "weekday", "start_time", "end_time", "time_zone"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "weekday": {"help_text": "0 Monday to 6 Sunday."},
            "start_time": {"help_text": "Wall-clock time (HH:MM) in your time zone (`time_zone`)."},
            "end_time": {"help_text": "After start_time, the same day."},
        }


class DateHoursSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    time_zone = serializers.CharField(source="schedule.time_zone", read_only=True)

    class Meta:
        model = DateHours
        fields = ["id", "on", "start_time", "end_time", "note", "time_zone"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "on": {"help_text": "The date whose hours replace the weekly ones."},
            "start_time": {"help_text": "Wall-clock time in your time zone; leave both times out for a day off."},
        }


class TimeOffSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    time_zone = serializers.CharField(source="schedule.time_zone", read_only=True)

    class Meta:
        model = TimeOff
        fields = ["id", "starts_at", "ends_at", "note", "time_zone"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "starts_at": {"help_text": "ISO 8601; without a UTC offset, a time in your time zone."},
            "ends_at": {"help_text": "After starts_at."},
        }


class OwnScheduleRowsViewSet(NonPatientViewSet):
    """Rows of the caller's own schedule: list, add (`add`, one service shared with the schedule page), read
    and remove. Times are read and shown in the caller's time zone. Another clinician's row is a 404; a role
    that keeps no hours (patients, coordinators, administrators) is refused with 403."""

    http_method_names = ["get", "post", "delete", "head", "options"]
    add = None  # the service that adds a row

    def _require_keeper(self):
        access.require(self.request.user, Permission.KEEP_SCHEDULE, object_type=self.audit_object_type)
        return timezone.override(selectors.schedule_of(self.request.user).time_zone)

    def list(self, request):
        with self._require_keeper():
            page = self.paginate_queryset(self.get_queryset())
            return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        with self._require_keeper():
            return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        with self._require_keeper():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            row = type(self).add(actor=request.user, **serializer.validated_data)
            return Response(self.get_serializer(row).data, status=201)

    def destroy(self, request, pk=None):
        with self._require_keeper():
            row = self.get_object()
            services.schedule_row_delete(actor=request.user, model=self.model, pk=row.pk)
        return Response(status=204)


@extend_schema(tags=["availability"])
class WeeklyHoursViewSet(OwnScheduleRowsViewSet):
    """Your weekly hours: the stretches of each weekday you see patients, in your time zone."""

    scope = staticmethod(selectors.own_weekly_hours)
    model = WeeklyHours
    serializer_class = WeeklyHoursSerializer
    add = staticmethod(services.hours_add)


@extend_schema(tags=["availability"])
class DateHoursViewSet(OwnScheduleRowsViewSet):
    """Dates that differ from your week: other hours on that date, or (no times) a day off."""

    scope = staticmethod(selectors.own_date_hours)
    model = DateHours
    serializer_class = DateHoursSerializer
    add = staticmethod(services.date_hours_add)


@extend_schema(tags=["availability"])
class TimeOffViewSet(OwnScheduleRowsViewSet):
    """Time off (leave, a conference): no visit is offered inside it."""

    scope = staticmethod(selectors.own_time_off)
    model = TimeOff
    serializer_class = TimeOffSerializer
    add = staticmethod(services.time_off_add)

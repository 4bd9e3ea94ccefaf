"""Peer consultation over the API: `/api/v1/network/groups/`, `/meetings/` (attendance, .ics) and
`/presentations/`. A presentation names its patient only in the request that creates it (looked up through
the presenter's own access); nothing it answers or stores leads back to the patient."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ListRetrieveMixin, NonPatientViewSet
from kapcare.api.serializers import StrictFieldsMixin
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied
from patients.access import visible_patients

from . import selectors, services
from .ics import meeting_ics
from .models import ConsultationGroup, Meeting, Presentation


class GroupSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    facilitator = serializers.PrimaryKeyRelatedField(queryset=selectors.clinicians())
    members = serializers.PrimaryKeyRelatedField(many=True, write_only=True, queryset=selectors.clinicians())

    class Meta:
        model = ConsultationGroup
        fields = ["id", "name", "facilitator", "members"]
        read_only_fields = ["id"]

    def to_representation(self, group):
        data = super().to_representation(group)
        data["members"] = [str(membership.clinician_id) for membership in group.memberships.all()]
        return data


class MeetingSerializer(serializers.ModelSerializer):
    attended = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = ["id", "group", "starts_at", "time_zone", "duration_minutes", "video_link", "ce_hours", "series"]
        fields += ["attended"]
        read_only_fields = fields

    def get_attended(self, meeting) -> list[str]:
        return [str(row.clinician_id) for row in meeting.attendance.all()]


class WallClockDateTimeField(serializers.DateTimeField):
    """A date and time kept as given: without an offset it is read in the meeting's own time zone."""

    def enforce_timezone(self, value):
        return value


class ScheduleSerializer(StrictFieldsMixin, serializers.Serializer):
    group = serializers.UUIDField()
    starts_at = WallClockDateTimeField(help_text="The first meeting; without a UTC offset, a time in `time_zone`.")
    time_zone = serializers.CharField(max_length=64)
    video_link = serializers.CharField(max_length=500)
    ce_hours = serializers.DecimalField(max_digits=4, decimal_places=2, min_value=0, max_value=8)
    duration_minutes = serializers.IntegerField(min_value=15, max_value=480, default=60)
    count = serializers.IntegerField(default=1, help_text="How many meetings in the series.")
    every_weeks = serializers.IntegerField(default=1)


class AttendanceSerializer(StrictFieldsMixin, serializers.Serializer):
    attendees = serializers.ListField(child=serializers.UUIDField(), max_length=200, allow_empty=True)


class PresentationSerializer(serializers.ModelSerializer):
    presenter_name = serializers.CharField(source="presenter.__str__", read_only=True)

    class Meta:
        model = Presentation
        fields = ["id", "group", "meeting", "presenter", "presenter_name", "title", "summary", "age_band"]
        fields += ["scores", "dose_plan", "created_at"]
        read_only_fields = fields


class PresentSerializer(StrictFieldsMixin, serializers.Serializer):
    group = serializers.UUIDField()
    meeting = serializers.UUIDField(required=False, allow_null=True)
    patient = serializers.UUIDField(help_text="A patient on your own care team; never stored or shown.")
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=5000)
    include_scores = serializers.BooleanField(default=True)
    include_dose_plan = serializers.BooleanField(default=True)


def _visible(request, queryset, pk, object_type):
    """An object of one of the caller's groups named in a request body, or 404 (audited)."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        audit_denied(request.user, AuditEvent.Action.CREATE, object_type=object_type, object_id=pk)
        raise Http404("No such record, or it is not yours to see.")
    return found


@extend_schema(tags=["network"])
class GroupViewSet(ListRetrieveMixin, NonPatientViewSet):
    """Consultation groups: a clinician's own; a coordinator's medical group's, which they form."""

    scope = staticmethod(selectors.visible_groups)
    model = ConsultationGroup
    serializer_class = GroupSerializer
    http_method_names = ["get", "post", "head", "options"]

    view_permission = Permission.VIEW_CONSULTATION

    def create(self, request):
        access.require(request.user, Permission.MANAGE_CONSULTATION_GROUPS, object_type="network.consultationgroup")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = services.group_create(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(group).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["network"])
class MeetingViewSet(ListRetrieveMixin, NonPatientViewSet):
    """Meetings of the caller's groups; the facilitator schedules them and records attendance."""

    scope = staticmethod(selectors.visible_meetings)
    model = Meeting
    serializer_class = MeetingSerializer
    http_method_names = ["get", "post", "head", "options"]

    view_permission = Permission.VIEW_CONSULTATION

    @extend_schema(request=ScheduleSerializer, responses=MeetingSerializer(many=True))
    def create(self, request):
        access.require(request.user, Permission.VIEW_CONSULTATION, object_type="network.meeting")
        schedule = ScheduleSerializer(data=request.data)
        schedule.is_valid(raise_exception=True)
        data = dict(schedule.validated_data)
        group = _visible(
            request, selectors.visible_groups(request.user), data.pop("group"), "network.consultationgroup"
        )
        meetings = services.meetings_schedule(actor=request.user, group=group, **data)
        return Response(self.get_serializer(meetings, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AttendanceSerializer, responses=MeetingSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        meeting = self.get_object()
        body = AttendanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        people = list(selectors.people(body.validated_data["attendees"]))
        if len(people) != len(set(body.validated_data["attendees"])):
            raise ValidationError({"attendees": "Only the group's members can be recorded as attending."})
        services.attendance_record(actor=request.user, meeting=meeting, attendees=people)
        return Response(self.get_serializer(selectors.visible_meetings(request.user).get(pk=meeting.pk)).data)

    @extend_schema(responses={(200, "text/calendar"): bytes})
    @action(detail=True, methods=["get"])
    def ics(self, request, pk=None):
        """The meeting as an iCalendar file, to add to a calendar."""
        meeting = self.get_object()
        access.require(request.user, Permission.VIEW_CONSULTATION, meeting)
        return ics_response(meeting)


def ics_response(meeting):
    response = HttpResponse(meeting_ics(meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


@extend_schema(tags=["network"])
class PresentationViewSet(ListRetrieveMixin, NonPatientViewSet):
    """Case presentations of the caller's groups: the presenter's summary and de-identified values only."""

    scope = staticmethod(selectors.visible_presentations)
    model = Presentation
    serializer_class = PresentationSerializer
    http_method_names = ["get", "post", "head", "options"]

    view_permission = Permission.VIEW_PRESENTATIONS

    @extend_schema(request=PresentSerializer, responses=PresentationSerializer)
    def create(self, request):
        access.require(request.user, Permission.PRESENT_CASE, object_type="network.presentation")
        body = PresentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        group = _visible(
            request, selectors.visible_groups(request.user), data.pop("group"), "network.consultationgroup"
        )
        meeting_id = data.pop("meeting", None)
        meeting = None
        if meeting_id:
            meeting = _visible(request, selectors.visible_meetings(request.user), meeting_id, "network.meeting")
        patient = access.get_visible(
            visible_patients(request.user), data.pop("patient"), user=request.user, action=AuditEvent.Action.READ
        )
        presentation = services.presentation_create(
            actor=request.user, group=group, meeting=meeting, patient=patient, **data
        )
        return Response(self.get_serializer(presentation).data, status=status.HTTP_201_CREATED)

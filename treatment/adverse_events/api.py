"""Side effects and adverse events over the API: `GET/POST /api/v1/adverse-events/`.

The therapist on the care team or the patient reports; the clinicians and the patient read. A severe
report raises a safety alert to both clinicians (see /api/v1/alerts/)."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from kapcare.access import Permission
from kapcare.api.serializers import StrictFieldsMixin
from treatment.adverse_events import selectors as adverse_event_selectors
from treatment.adverse_events import services as adverse_event_services
from treatment.adverse_events.models import AdverseEvent
from treatment.course import selectors as course_selectors
from treatment.course.api import CourseScopedViewSet


class AdverseEventSerializer(serializers.ModelSerializer):
    reported_by = serializers.StringRelatedField()
    reporter_role = serializers.CharField(source="reported_by.role", read_only=True)

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "patient",
            "course",
            "session",
            "reported_by",
            "reporter_role",
            "kind",
            "description",
            "severity",
            "onset_minutes",
            "action_taken",
            "action_details",
            "who_was_told",
            "reported_at",
        ]
        read_only_fields = fields


class AdverseEventCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    session = serializers.UUIDField(required=False, allow_null=True, help_text="The session it followed, if any.")
    kind = serializers.ChoiceField(choices=AdverseEvent.Kind.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    severity = serializers.ChoiceField(choices=AdverseEvent.Severity.choices)
    onset_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=AdverseEvent.MAX_ONSET_MINUTES
    )
    action_taken = serializers.ChoiceField(choices=AdverseEvent.Action.choices, default=AdverseEvent.Action.NONE)
    action_details = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    who_was_told = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


@extend_schema(tags=["adverse events"])
class AdverseEventViewSet(CourseScopedViewSet):
    """Side-effect reports, newest first."""

    scope = staticmethod(adverse_event_selectors.visible_adverse_events)
    model = AdverseEvent
    serializer_class = AdverseEventSerializer
    view_permission = Permission.VIEW_ADVERSE_EVENTS
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=AdverseEventCreateSerializer, responses={201: AdverseEventSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.REPORT_ADVERSE_EVENT)
        serializer = AdverseEventCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("patient")
        session_id = data.pop("session", None)
        session = None
        if session_id is not None:
            session = course_selectors.visible_sessions(request.user).filter(patient=patient, pk=session_id).first()
            if session is None:
                raise ValidationError({"session": "No such session of this patient."})
        event = adverse_event_services.adverse_event_report(
            actor=request.user, patient=patient, session=session, **data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=event.pk)).data, status=201)

"""Training over the API: `/api/v1/network/courses/` and `/api/v1/network/enrolments/` (complete, verify,
certificate) and `/api/v1/network/transcripts/{clinician}/`. Thin: access, a serializer, one service."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ListRetrieveMixin, NonPatientViewSet
from kapcare.api.serializers import StrictFieldsMixin

from . import selectors, services
from .certificates import certificate_response
from .models import Course, Enrolment


class TrainingCourseSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["id", "title", "provider", "accrediting_body", "ce_hours", "required_for", "is_kap_training"]
        read_only_fields = ["id"]


class EnrolmentSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    course = serializers.PrimaryKeyRelatedField(queryset=selectors.active_courses())
    clinician_name = serializers.CharField(source="clinician.__str__", read_only=True)
    has_certificate = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=["enrolled", "completed", "verified"], read_only=True)

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "course",
            "clinician",
            "clinician_name",
            "status",
            "enrolled_at",
            "completed_on",
            "certificate_number",
            "has_certificate",
            "verified_at",
        ]
        read_only_fields = [field for field in fields if field != "course"]

    def get_has_certificate(self, enrolment) -> bool:
        return bool(enrolment.certificate)


class CompletionSerializer(serializers.Serializer):
    completed_on = serializers.DateField()
    certificate_number = serializers.CharField(max_length=100)
    certificate = serializers.FileField(help_text="PDF, PNG or JPEG; at most CERTIFICATE_MAX_BYTES.")


@extend_schema(tags=["network"])
class CourseViewSet(ListRetrieveMixin, NonPatientViewSet):
    """The network's course catalogue. Coordinators add courses."""

    scope = staticmethod(selectors.courses)
    model = Course
    serializer_class = TrainingCourseSerializer
    http_method_names = ["get", "post", "head", "options"]

    view_permission = Permission.VIEW_TRAINING

    def create(self, request):
        access.require(request.user, Permission.MANAGE_COURSES, object_type="network.course")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_create(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(course).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["network"])
class EnrolmentViewSet(ListRetrieveMixin, NonPatientViewSet):
    """Enrolments: a clinician's own; a coordinator's medical group's clinicians'."""

    scope = staticmethod(selectors.visible_enrolments)
    model = Enrolment
    serializer_class = EnrolmentSerializer
    http_method_names = ["get", "post", "head", "options"]

    view_permission = Permission.VIEW_TRAINING

    def create(self, request):
        access.require(request.user, Permission.ENROL_IN_COURSE, object_type="network.enrolment")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrolment = services.enrolment_create(actor=request.user, course=serializer.validated_data["course"])
        return Response(self.get_serializer(enrolment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": CompletionSerializer}, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def complete(self, request, pk=None):
        enrolment = self.get_object()
        access.require(request.user, Permission.ENROL_IN_COURSE, enrolment)
        completion = CompletionSerializer(data=request.data)
        completion.is_valid(raise_exception=True)
        enrolment = services.enrolment_complete(actor=request.user, enrolment=enrolment, **completion.validated_data)
        return Response(self.get_serializer(enrolment).data)

    @extend_schema(request=None, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        enrolment = self.get_object()
        access.require(request.user, Permission.VERIFY_TRAINING, enrolment)
        enrolment = services.enrolment_verify(actor=request.user, enrolment=enrolment)
        return Response(self.get_serializer(enrolment).data)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def certificate(self, request, pk=None):
        """The certificate file, to the clinician it belongs to and their medical group's coordinators only."""
        enrolment = self.get_object()
        access.require(request.user, Permission.VIEW_TRAINING, enrolment)
        return certificate_response(enrolment)


class PeriodSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    course_hours = serializers.DecimalField(max_digits=7, decimal_places=2)
    consultation_hours = serializers.DecimalField(max_digits=7, decimal_places=2)
    total = serializers.DecimalField(max_digits=7, decimal_places=2)
    target = serializers.IntegerField()
    missing_hours = serializers.DecimalField(max_digits=7, decimal_places=2)


class TranscriptSerializer(serializers.Serializer):
    clinician = serializers.UUIDField(source="clinician.pk")
    periods = PeriodSerializer(many=True)
    missing = TrainingCourseSerializer(many=True, help_text="Required courses not completed and verified.")


@extend_schema(tags=["network"])
class TranscriptViewSet(NonPatientViewSet):
    """A clinician's CE transcript: hours per calendar year, the target, and the required courses missing."""

    scope = staticmethod(access.visible_clinicians)
    serializer_class = TranscriptSerializer
    http_method_names = ["get", "head", "options"]

    def retrieve(self, request, pk=None):
        clinician = self.get_object()
        access.require(request.user, Permission.VIEW_TRAINING, object_type="network.transcript")
        return Response(TranscriptSerializer(selectors.transcript(clinician)).data)

"""Messages and notifications over the API.

`GET/POST /api/v1/messages/` (CONTRACT.md): care-team messages `{"patient": id, "body": text}`, filter
`?patient=id`. `?thread=patient` (and `"thread": "patient"` in a POST) reaches the patient's own thread, the
only one a patient reads. `POST /api/v1/messages/{id}/acknowledge/` acknowledges an urgent message.
`GET /api/v1/notifications/` lists the caller's own in-app notifications; `POST .../{id}/read/` marks one read.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.api.base import ScopedViewSet
from kapcare.api.serializers import StrictFieldsMixin
from patients.api_base import PatientScopedViewSet

from . import selectors, services
from .models import Message, Notification, Thread


class RecipientSerializer(serializers.Serializer):
    user = serializers.UUIDField(source="user_id")
    name = serializers.CharField(source="user.get_full_name")
    read_at = serializers.DateTimeField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class MessageSerializer(serializers.ModelSerializer):
    thread = serializers.CharField(source="thread.kind", help_text="care_team or patient")
    author = serializers.UUIDField(source="author_id", allow_null=True)
    author_name = serializers.CharField(help_text="KAPCare for a message the system sent.")
    author_role = serializers.CharField(help_text="system for a message the system sent.")
    for_clinician_name = serializers.CharField(allow_null=True, help_text="Whom the patient wrote to, if anyone.")
    recipients = RecipientSerializer(
        many=True, read_only=True, source="recipient_list", help_text="Who it went to; read receipts."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "patient",
            "thread",
            "kind",
            "body",
            "card",
            "source_type",
            "source_id",
            "source_version",
            "urgent",
            "author",
            "author_name",
            "author_role",
            "for_clinician",
            "for_clinician_name",
            "created_at",
            "recipients",
        ]
        read_only_fields = fields


class MessageCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    body = serializers.CharField(max_length=Message.MAX_BODY)
    thread = serializers.ChoiceField(choices=Thread.Kind.choices, default=Thread.Kind.CARE_TEAM)
    urgent = serializers.BooleanField(default=False, help_text="Care-team thread only: each recipient acknowledges.")
    for_clinician = serializers.UUIDField(
        required=False, allow_null=True, help_text="Patient's thread, from the patient: the team member it is for."
    )


class MessageQuerySerializer(serializers.Serializer):
    patient = serializers.UUIDField(required=False)
    thread = serializers.ChoiceField(choices=Thread.Kind.choices, default=Thread.Kind.CARE_TEAM)


THREAD_FILTER = OpenApiParameter("thread", str, enum=Thread.Kind.values, description="Default care_team.")
PATIENT_FILTER = OpenApiParameter("patient", str, description="Only this patient's messages (a UUID).")


@extend_schema(tags=["messages"])
class MessageViewSet(PatientScopedViewSet):
    """Messages about the caller's patients, newest first, with who they went to and who has read them."""

    scope = staticmethod(selectors.messages_for_api)
    model = Message
    serializer_class = MessageSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(parameters=[PATIENT_FILTER, THREAD_FILTER])
    def list(self, request):
        query = MessageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind = query.validated_data["thread"]
        permission = selectors.VIEW_PERMISSION[kind]
        patient = self.patient_from_query(permission)
        if patient is None:  # every visible patient's: for a role that may read this kind of thread at all
            access.require(request.user, permission, object_type=self.audit_object_type)
            messages, count = self.get_queryset().filter(thread__kind=kind), None
        else:
            messages, count = selectors.thread_messages_for_api(patient, kind)
        page = self.audited_page(messages, count=count)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        message = self.get_object()
        access.require(request.user, selectors.VIEW_PERMISSION[message.thread.kind], message)
        return Response(self.get_serializer(self.audited_read(message)).data)

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer})
    def create(self, request):
        named = request.data.get("thread") if hasattr(request.data, "get") else None
        kind = named if named in Thread.Kind.values else Thread.Kind.CARE_TEAM
        patient = self.patient_from_body(request.data, selectors.POST_PERMISSION[kind])
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        for_clinician = None
        if data.get("for_clinician"):
            for_clinician = selectors.team_clinician(patient, data["for_clinician"])
            if for_clinician is None:
                raise ValidationError({"for_clinician": "Choose someone on the patient's care team."})
        message = services.message_send(
            actor=request.user,
            patient=patient,
            body=data["body"],
            thread_kind=data["thread"],
            urgent=data["urgent"],
            for_clinician=for_clinician,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=message.pk)).data, status=201)

    @extend_schema(request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge an urgent message sent to you: 200 with the receipts; 409 if already acknowledged or not
        urgent; 403 for a role that may not or a clinician it did not go to."""
        message = self.get_object()
        access.require(request.user, selectors.VIEW_PERMISSION[message.thread.kind], message)
        services.message_acknowledge(actor=request.user, message=message)
        return Response(self.get_serializer(self.get_queryset().get(pk=message.pk)).data)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "url", "patient", "message", "created_at", "read_at"]
        read_only_fields = fields


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False)


@extend_schema(tags=["notifications"])
class NotificationViewSet(ScopedViewSet):
    """The caller's own in-app notifications, newest first."""

    scope = staticmethod(selectors.visible_notifications)
    model = Notification
    serializer_class = NotificationSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="Only the unread ones.")])
    def list(self, request):
        query = NotificationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        notifications = self.get_queryset()
        if query.validated_data["unread"]:
            notifications = notifications.filter(read_at__isnull=True)
        page = self.audited_page(notifications)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(actor=request.user, notification=self.get_object())
        return Response(self.get_serializer(notification).data)

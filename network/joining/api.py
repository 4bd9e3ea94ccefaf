"""API of applications to join the network, for the medical group's coordinators (scoped and audited).
The public form and the applicant's link are web pages only: an applicant has no account to call the API with."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ScopedViewSet
from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_denied

from . import selectors, services
from .models import Application, CredentialCheck


class CredentialSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="The key a check names: npi, licence:<id>, dea:<id>, malpractice, training.")
    label = serializers.CharField()
    value = serializers.CharField(help_text="The credential as declared now.")
    outcome = serializers.CharField(allow_null=True, help_text="The latest check of this value, or null.")
    source = serializers.CharField(allow_null=True)
    checked_by = serializers.CharField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)


class CheckSerializer(serializers.ModelSerializer):
    checked_by = serializers.StringRelatedField()

    class Meta:
        model = CredentialCheck
        fields = ["item", "value", "outcome", "source", "checked_by", "checked_at"]


class ApplicationSerializer(serializers.ModelSerializer):
    credentials = serializers.SerializerMethodField()
    checks = CheckSerializer(many=True, read_only=True)
    decided_by = serializers.StringRelatedField()
    invited_by = serializers.StringRelatedField()

    class Meta:
        model = Application
        fields = [
            "id",
            "status",
            "role",
            "first_name",
            "last_name",
            "email",
            "medical_group",
            "invited_by",
            "submitted_at",
            "corrections",
            "credentials",
            "checks",
            "practice",
            "account",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields

    @extend_schema(responses=CredentialSerializer(many=True))
    def get_credentials(self, application) -> list[dict]:
        return [
            {
                "item": key,
                "label": label,
                "value": value,
                "outcome": check and check.outcome,
                "source": check and check.source,
                "checked_by": check and str(check.checked_by),
                "checked_at": check and check.checked_at,
            }
            for key, label, value, check in selectors.verification_of(application)
        ]


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Application.ROLES)


class CheckInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=60)
    outcome = serializers.ChoiceField(choices=CredentialCheck.Outcome.choices)
    source = serializers.CharField(max_length=500)


class CorrectionsSerializer(serializers.Serializer):
    corrections = serializers.CharField(max_length=2000)


class DecisionSerializer(serializers.Serializer):
    practice = serializers.PrimaryKeyRelatedField(
        queryset=selectors.therapy_practices(), required=False, allow_null=True
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class StatusQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Application.Status.choices, required=False, help_text="Default: all.")


class ApplicationViewSet(ScopedViewSet, mixins.ListModelMixin):
    """Applications to the coordinator's medical group: invite, check each credential, ask for corrections,
    approve (opens the account) or decline. Anyone else gets 403; another group's application is a 404."""

    scope = staticmethod(selectors.applications_for)
    model = Application
    serializer_class = ApplicationSerializer
    http_method_names = ["get", "post", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        access.require(request.user, Permission.REVIEW_APPLICATION, object_type="network.application")

    def get_object(self):
        application = selectors.application_detail(self.request.user, self.kwargs["pk"])
        if application is None:
            action = AuditEvent.Action.READ if self.request.method == "GET" else AuditEvent.Action.UPDATE
            audit_denied(self.request.user, action, object_type="network.application", object_id=self.kwargs["pk"])
            raise NotFound("No such application to your medical group.")
        return application

    @extend_schema(parameters=[StatusQuerySerializer])
    def list(self, request):
        query = StatusQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        applications = selectors.applications_for(request.user, status=query.validated_data.get("status"))
        page = self.audited_page(applications.prefetch_related("licences", "dea_registrations", "checks"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.audited_read(self.get_object())).data)

    @extend_schema(request=InviteSerializer, responses={201: ApplicationSerializer})
    def create(self, request):
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        application = services.application_invite(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(application).data, status=201)

    def _step(self, request, body_class, service):
        application = self.get_object()
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        service(actor=request.user, application=application, **body.validated_data)
        return Response(self.get_serializer(selectors.application_detail(request.user, application.pk)).data)

    @extend_schema(request=CheckInputSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def checks(self, request, pk=None):
        return self._step(request, CheckInputSerializer, services.credential_check)

    @extend_schema(request=CorrectionsSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"], url_path="request-corrections")
    def request_corrections(self, request, pk=None):
        return self._step(request, CorrectionsSerializer, services.application_request_corrections)

    @extend_schema(request=DecisionSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._step(request, DecisionSerializer, services.application_approve)

    @extend_schema(request=DecisionSerializer, responses=ApplicationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        def decline(*, practice=None, **kwargs):
            return services.application_decline(**kwargs)

        return self._step(request, DecisionSerializer, decline)

"""API of supervision (/api/v1/network/supervision/cases/): the caller's cases (scoped as the web pages), the
supervisor's review and the prescriber's acknowledgement, and the supervisor's read of the record and its context
(`context/`, through the supervision grant; network.supervision.selectors says what it holds)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.base import ScopedViewSet

from . import selectors, services
from .models import SupervisionCase


class CaseSerializer(serializers.ModelSerializer):
    prescriber = serializers.StringRelatedField()
    supervisor = serializers.StringRelatedField()
    needs_acknowledgement = serializers.BooleanField(read_only=True)

    class Meta:
        model = SupervisionCase
        fields = [
            "id",
            "kind",
            "record_id",
            "patient",
            "prescriber",
            "supervisor",
            "reason",
            "due_on",
            "verdict",
            "comment",
            "reviewed_at",
            "acknowledged_at",
            "needs_acknowledgement",
        ]
        read_only_fields = fields


class ReviewSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=SupervisionCase.Verdict.choices)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class CommentOutSerializer(serializers.Serializer):
    author = serializers.StringRelatedField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class ContextRecordSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.UUIDField()
    fields = serializers.DictField()


class ScoreSerializer(serializers.Serializer):
    instrument = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    total_score = serializers.IntegerField()
    severity = serializers.CharField()


class ContextSerializer(serializers.Serializer):
    """The case's context for its supervisor (network.supervision.selectors: what the grant opens)."""

    course = serializers.UUIDField(source="course.pk", allow_null=True, default=None)
    records = ContextRecordSerializer(many=True)
    scores = ScoreSerializer(many=True)


class SupervisionCaseViewSet(ScopedViewSet, mixins.ListModelMixin):
    """A supervisor's queue and reviews, a prescriber's feedback, a coordinator's view of their group's cases."""

    scope = staticmethod(selectors.visible_cases)
    model = SupervisionCase
    serializer_class = CaseSerializer
    http_method_names = ["get", "post", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        access.require(request.user, Permission.VIEW_SUPERVISION, object_type="network.supervisioncase")

    def list(self, request):
        page = self.audited_page(selectors.visible_cases(request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.audited_read(self.get_object())).data)

    @extend_schema(responses=ContextSerializer)
    @action(detail=True, methods=["get"], serializer_class=ContextSerializer)
    def context(self, request, pk=None):
        """The picked record and its context, read-only through the supervisor's grant (audited as a supervision
        read); the case's other parties are refused (403)."""
        case = self.get_object()
        access.require_supervision_side(request.user, case, "supervisor")
        record = selectors.supervised_record(request.user, case)
        grant = selectors.supervised_context(request.user, case, record)
        records = [
            {"kind": kind, "id": obj.pk, "fields": selectors.record_values(obj)}
            for kind, obj in selectors.context_items(grant)
        ]
        return Response(ContextSerializer({"course": grant.course, "records": records, "scores": grant.scores}).data)

    @action(detail=True, methods=["post"], serializer_class=ReviewSerializer)
    def review(self, request, pk=None):
        case = self.get_object()
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.supervision_review(actor=request.user, case=case, **data.validated_data)
        return Response(CaseSerializer(case).data)

    @extend_schema(request=None, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        case = services.supervision_acknowledge(actor=request.user, case=self.get_object())
        return Response(CaseSerializer(case).data)

    @action(detail=True, methods=["post"], serializer_class=CommentSerializer)
    def comment(self, request, pk=None):
        case = self.get_object()
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.supervision_comment(actor=request.user, case=case, **data.validated_data)
        return Response(CommentOutSerializer(comment).data, status=201)

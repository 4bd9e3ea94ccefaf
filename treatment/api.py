"""The course of care over the API: evaluations, courses, dose plans and follow-ups (sessions: session_api).

Evaluations are served here rather than in assessments because signing one moves the course (a use
case of treatment). Every lookup goes through kapcare.access (outsider -> 404, role -> 403); services
enforce the gates, and a gate's refusal is a 409 `{"detail": <the sentence>, "code": <the gate>}`.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Evaluation
from kapcare import access
from kapcare.access import Permission
from patients.api_base import PATIENT_FILTER, PatientScopedViewSet

from . import course_selectors, services
from .models import DosePlan, FollowUp, TreatmentCourse
from .serializers import (
    AddendumCreateSerializer,
    AddendumSerializer,
    CourseSerializer,
    DosePlanCreateSerializer,
    DosePlanSerializer,
    DosePlanWriteSerializer,
    EvaluationCreateSerializer,
    EvaluationSerializer,
    EvaluationWriteSerializer,
    FollowUpCreateSerializer,
    FollowUpSerializer,
    FollowUpWriteSerializer,
)


class CourseScopedViewSet(PatientScopedViewSet):
    """A child record of the patient: `view_permission` gates every read, lists filter by `?patient=`."""

    view_permission = None

    def _target_patient(self, data, permission):
        return self.patient_from_body(data, permission)

    def _filtered(self, queryset):
        return self.filter_by_patient(queryset, self.view_permission, whole_list_by_role=True)

    def context_for(self, objects):
        """Serializer context for these objects; subclasses add what their serializer needs, in bulk."""
        return self.get_serializer_context()

    @extend_schema(parameters=[PATIENT_FILTER])
    def list(self, request):
        page = self.audited_page(self._filtered(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True, context=self.context_for(page)).data)

    def retrieve(self, request, pk=None):
        obj = self.audited_read(self._visible_object())
        return Response(self.get_serializer(obj, context=self.context_for([obj])).data)

    def _visible_object(self):
        obj = self.get_object()
        access.require(self.request.user, self.view_permission, obj)
        return obj


@extend_schema(tags=["evaluations"])
class EvaluationViewSet(CourseScopedViewSet):
    """The prescriber's evaluations. POST creates the patient's draft (or updates it) and signs it with
    `"sign": true`; `sign` signs a draft; a signed evaluation never changes (409): add an addendum."""

    scope = staticmethod(assessment_selectors.evaluations_for_list)
    model = Evaluation
    serializer_class = EvaluationSerializer
    view_permission = Permission.VIEW_EVALUATION
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _reloaded(self, evaluation, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=evaluation.pk)).data, status=status)

    def _write(self, patient, data, evaluation=None):
        data = dict(data)
        sign = data.pop("sign", False)
        reviews = data.pop("flag_reviews", None)
        if reviews is not None:
            reviews = [dict(item) for item in reviews]
        data.pop("patient", None)
        with transaction.atomic():  # a refused signature keeps nothing of this request
            evaluation = assessment_services.evaluation_save_draft(
                actor=self.request.user, patient=patient, data=data, flag_reviews=reviews, evaluation=evaluation
            )
            if sign:
                evaluation = services.evaluation_sign(actor=self.request.user, evaluation=evaluation)
        return evaluation

    @extend_schema(request=EvaluationCreateSerializer, responses={201: EvaluationSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.WRITE_EVALUATION)
        serializer = EvaluationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._reloaded(self._write(patient, serializer.validated_data), status=201)

    @extend_schema(request=EvaluationWriteSerializer)
    def partial_update(self, request, pk=None):
        evaluation = self.get_object()
        access.require(request.user, Permission.WRITE_EVALUATION, evaluation)
        if evaluation.is_signed:
            raise assessment_services.evaluation_locked(evaluation)
        serializer = EvaluationWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._reloaded(self._write(evaluation.patient, serializer.validated_data, evaluation))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign and lock: 400 naming each missing field or unreviewed flag; 409 when already signed."""
        evaluation = self.get_object()
        access.require(request.user, Permission.WRITE_EVALUATION, evaluation)
        evaluation = services.evaluation_sign(actor=request.user, evaluation=evaluation)
        return self._reloaded(evaluation)

    @extend_schema(request=AddendumCreateSerializer, responses=AddendumSerializer)
    @action(detail=True, methods=["get", "post"])
    def addenda(self, request, pk=None):
        """A signed evaluation's addenda; POST adds one (the prescriber on the care team)."""
        evaluation = self.get_object()
        if request.method == "GET":
            access.require(request.user, Permission.VIEW_EVALUATION, evaluation)
            addenda = list(evaluation.addenda.select_related("author").order_by("signed_at", "id"))
            self.audited_read(evaluation)
            return Response(AddendumSerializer(addenda, many=True).data)
        access.require(request.user, Permission.WRITE_EVALUATION, evaluation)
        serializer = AddendumCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = assessment_services.evaluation_add_addendum(
            actor=request.user, evaluation=evaluation, text=serializer.validated_data["text"]
        )
        return Response(AddendumSerializer(addendum).data, status=201)


@extend_schema(tags=["courses"])
class CourseViewSet(CourseScopedViewSet, mixins.ListModelMixin):
    """Courses of care (read only): the stage and the dose ledger."""

    scope = staticmethod(lambda user: course_selectors.visible_courses(user).select_related("patient"))
    model = TreatmentCourse
    serializer_class = CourseSerializer
    view_permission = Permission.VIEW_COURSE

    def context_for(self, courses):
        return {**self.get_serializer_context(), "ledgers": course_selectors.ledgers_for_courses(c.pk for c in courses)}


@extend_schema(tags=["dose plans"])
class DosePlanViewSet(CourseScopedViewSet):
    """Dose plans, every version. POST writes the course's draft; `sign` makes it the active plan and
    supersedes the previous version; a signed or superseded version never changes (409)."""

    scope = staticmethod(course_selectors.visible_dose_plans)
    model = DosePlan
    serializer_class = DosePlanSerializer
    view_permission = Permission.VIEW_DOSE_PLAN
    http_method_names = ["get", "post", "patch", "head", "options"]

    def context_for(self, plans):
        return {
            **self.get_serializer_context(),
            "ledgers": course_selectors.ledgers_for_courses({p.course_id for p in plans}),
            "weights": course_selectors.dosing_weights({p.patient_id for p in plans}),
        }

    def _respond(self, plan, status=200):
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(DosePlanSerializer(plan, context=self.context_for([plan])).data, status=status)

    @extend_schema(request=DosePlanCreateSerializer, responses={201: DosePlanSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.WRITE_DOSE_PLAN)
        serializer = DosePlanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("patient")
        plan = services.dose_plan_save_draft(actor=request.user, patient=patient, data=data)
        return self._respond(plan, status=201)

    @extend_schema(request=DosePlanWriteSerializer)
    def partial_update(self, request, pk=None):
        plan = self.get_object()
        access.require(request.user, Permission.WRITE_DOSE_PLAN, plan)
        if not plan.is_draft:
            raise services.dose_plan_locked(plan)
        serializer = DosePlanWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        plan = services.dose_plan_save_draft(
            actor=request.user, patient=plan.patient, data=dict(serializer.validated_data), plan=plan
        )
        return self._respond(plan)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign the draft: 400 naming each missing field; 409 naming the gate (signed eligible evaluation)."""
        plan = self.get_object()
        access.require(request.user, Permission.WRITE_DOSE_PLAN, plan)
        plan = services.dose_plan_sign(actor=request.user, plan=plan)
        return self._respond(plan)


@extend_schema(tags=["follow-ups"])
class FollowUpViewSet(CourseScopedViewSet):
    """The prescriber's follow-up visits. POST `{"patient": id}` starts the next visit (201) or returns the
    pending one (200); PATCH writes the draft note; `sign` signs it and applies its decision (more doses,
    a dose adjustment, maintenance, discharge). A signed follow-up never changes (409)."""

    scope = staticmethod(course_selectors.visible_follow_ups)
    model = FollowUp
    serializer_class = FollowUpSerializer
    view_permission = Permission.VIEW_FOLLOW_UP
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _respond(self, follow_up, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=follow_up.pk)).data, status=status)

    @extend_schema(request=FollowUpCreateSerializer, responses={201: FollowUpSerializer, 200: FollowUpSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.WRITE_FOLLOW_UP)
        FollowUpCreateSerializer(data=request.data).is_valid(raise_exception=True)
        follow_up, created = services.follow_up_start(actor=request.user, patient=patient)
        return self._respond(follow_up, status=201 if created else 200)

    @extend_schema(request=FollowUpWriteSerializer)
    def partial_update(self, request, pk=None):
        follow_up = self.get_object()
        access.require(request.user, Permission.WRITE_FOLLOW_UP, follow_up)
        if follow_up.is_signed:
            raise services.follow_up_locked(follow_up)
        serializer = FollowUpWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        follow_up = services.follow_up_save_draft(
            actor=request.user, follow_up=follow_up, data=dict(serializer.validated_data)
        )
        return self._respond(follow_up)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign and apply the decision: 400 naming each missing field; 409 when signed already or the course
        is closed."""
        follow_up = self.get_object()
        access.require(request.user, Permission.WRITE_FOLLOW_UP, follow_up)
        follow_up = services.follow_up_sign(actor=request.user, follow_up=follow_up)
        return self._respond(follow_up)

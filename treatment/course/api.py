"""The course of care over the API: evaluations, courses, dose plans and follow-ups (sessions: session_api).

Evaluations are served here rather than in assessments because signing one moves the course (a use
case of treatment). Every lookup goes through kapcare.access (outsider -> 404, role -> 403); services
enforce the gates, and a gate's refusal is a 409 `{"detail": <the sentence>, "code": <the gate>}`.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response

from assessments import selectors as assessment_selectors
from assessments import services as assessment_services
from assessments.models import Evaluation
from kapcare import access
from kapcare.access import Permission
from kapcare.signing.api import AddendaAction, SignAction, save_then_sign
from patients.api_base import PATIENT_FILTER, PatientScopedViewSet
from treatment.course import selectors as course_selectors
from treatment.course import services
from treatment.course.models import DosePlan, FollowUp, TreatmentCourse
from treatment.course.serializers import (
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
@extend_schema_view(addenda=extend_schema(request=AddendumCreateSerializer, responses=AddendumSerializer))
class EvaluationViewSet(SignAction, AddendaAction, CourseScopedViewSet):
    """The prescriber's evaluations. POST creates the patient's draft (or updates it) and signs it with
    `"sign": true` (a refused signature keeps the draft); `sign` signs a draft; a signed evaluation never
    changes (409): add an addendum."""

    scope = staticmethod(assessment_selectors.evaluations_for_list)
    model = Evaluation
    serializer_class = EvaluationSerializer
    view_permission = Permission.VIEW_EVALUATION
    write_permission = Permission.WRITE_EVALUATION
    http_method_names = ["get", "post", "patch", "head", "options"]
    addendum_serializer = AddendumSerializer
    addendum_input = AddendumCreateSerializer

    def _respond(self, evaluation, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=evaluation.pk)).data, status=status)

    def sign_record(self, actor, evaluation):
        return services.evaluation_sign_and_advance_course(actor=actor, evaluation=evaluation)

    def add_addendum(self, actor, evaluation, text):
        return assessment_services.evaluation_add_addendum(actor=actor, evaluation=evaluation, text=text)

    def _write(self, patient, data, evaluation=None):
        data = dict(data)
        wants_sign = data.pop("sign", False)
        reviews = data.pop("flag_reviews", None)
        if reviews is not None:
            reviews = [dict(item) for item in reviews]
        data.pop("patient", None)
        return save_then_sign(
            save=lambda: assessment_services.evaluation_save_draft(
                actor=self.request.user, patient=patient, data=data, flag_reviews=reviews, evaluation=evaluation
            ),
            sign=lambda draft: self.sign_record(self.request.user, draft),
            wants_sign=wants_sign,
        )

    @extend_schema(request=EvaluationCreateSerializer, responses={201: EvaluationSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.WRITE_EVALUATION)
        serializer = EvaluationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(self._write(patient, serializer.validated_data), status=201)

    @extend_schema(request=EvaluationWriteSerializer)
    def partial_update(self, request, pk=None):
        evaluation = self.get_object()
        access.require(request.user, Permission.WRITE_EVALUATION, evaluation)
        if evaluation.is_signed:
            raise assessment_services.evaluation_locked(evaluation)
        serializer = EvaluationWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._respond(self._write(evaluation.patient, serializer.validated_data, evaluation))


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
class DosePlanViewSet(SignAction, CourseScopedViewSet):
    """Dose plans, every version. POST writes the course's draft; `sign` makes it the active plan and
    supersedes the previous version; a signed or superseded version never changes (409)."""

    scope = staticmethod(course_selectors.visible_dose_plans)
    model = DosePlan
    serializer_class = DosePlanSerializer
    view_permission = Permission.VIEW_DOSE_PLAN
    write_permission = Permission.WRITE_DOSE_PLAN
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

    def sign_record(self, actor, plan):
        return services.dose_plan_sign(actor=actor, plan=plan)


@extend_schema(tags=["follow-ups"])
class FollowUpViewSet(SignAction, CourseScopedViewSet):
    """The prescriber's follow-up visits. POST `{"patient": id}` starts the next visit (201) or returns the
    pending one (200); PATCH writes the draft note; `sign` signs it and applies its decision (more doses,
    a dose adjustment, maintenance, discharge). A signed follow-up never changes (409)."""

    scope = staticmethod(course_selectors.visible_follow_ups)
    model = FollowUp
    serializer_class = FollowUpSerializer
    view_permission = Permission.VIEW_FOLLOW_UP
    write_permission = Permission.WRITE_FOLLOW_UP
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

    def sign_record(self, actor, follow_up):
        return services.follow_up_sign(actor=actor, follow_up=follow_up)

"""Therapy sessions over the API: scheduling, changes, the pre-dosing checklist and the dosing record.

Every lookup goes through kapcare.access (outsider -> 404, role -> 403); services enforce the rules, and a
refusal is a 409 `{"detail": <the sentence>, "code": <the rule>}` (a dosing gate names the gate); bad input
is a 400 with field errors.

    POST /sessions/{id}/cancel/       {"reason"}                     therapist on the team, coordinator
    POST /sessions/{id}/reschedule/   {"scheduled_at", "reason",     therapist on the team, coordinator
                                       "late_entry"?}  (true: a start more than 15 minutes ago, recorded late)
    POST /sessions/{id}/no-show/      {"reason"}                     therapist on the team, coordinator
    GET  /sessions/{id}/checklist/                                   the patient, the clinicians
    POST /sessions/{id}/checklist/    {"items": [...]}               the patient (own), the therapist
    GET  /sessions/{id}/dosing-record/                               the clinicians on the team
    POST /sessions/{id}/vitals/       {"phase", "systolic", ...}     the therapist on the team
    POST /sessions/{id}/dose/         {"dose_mg", "taken_at"?}       the therapist on the team
    POST /sessions/{id}/boosters/     {"dose_mg", "taken_at"?}       the therapist on the team
    POST /sessions/{id}/check-ins/    {"patient_ok"?, "remark"?}     the therapist on the team
    POST /sessions/{id}/end/          {end criteria, "ended_at"?}    the therapist on the team
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from treatment.course import selectors as course_selectors
from treatment.course.api import CourseScopedViewSet
from treatment.sessions import selectors as session_selectors
from treatment.sessions import services as session_services
from treatment.sessions.models import TherapySession
from treatment.sessions.serializers import (
    BoosterSerializer,
    CheckInInputSerializer,
    CheckInSerializer,
    ChecklistConfirmSerializer,
    ChecklistSerializer,
    DoseInputSerializer,
    DosingRecordSerializer,
    EndInputSerializer,
    ReasonSerializer,
    RescheduleSerializer,
    SessionCreateSerializer,
    SessionSerializer,
    VitalsInputSerializer,
    VitalsSerializer,
)


@extend_schema(tags=["sessions"])
class SessionViewSet(CourseScopedViewSet):
    """Preparation, dosing and integration sessions. A dosing session that fails a gate is refused with
    409 naming the gate (`code` is the gate's code), when booked or moved and again when its dose is marked
    taken (with the latest pre-dose vitals)."""

    scope = staticmethod(course_selectors.visible_sessions)
    model = TherapySession
    serializer_class = SessionSerializer
    view_permission = Permission.VIEW_SESSIONS
    http_method_names = ["get", "post", "head", "options"]

    def _session(self, permission):
        session = self.get_object()
        access.require(self.request.user, permission, session)
        return session

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer

    def _session_response(self, session, status=200):
        return Response(SessionSerializer(session, context=self.get_serializer_context()).data, status=status)

    def _dosing_response(self, session, status=200):
        session = self.get_queryset().select_related("patient", "course", "dose_plan").get(pk=session.pk)
        return Response(DosingRecordSerializer(session_selectors.dosing_view(session)).data, status=status)

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionSerializer})
    def create(self, request):
        patient = self._target_patient(request.data, Permission.SCHEDULE_SESSION)
        serializer = self._input(SessionCreateSerializer)
        session = session_services.session_schedule(actor=request.user, patient=patient, **serializer.details())
        return self._session_response(session, status=201)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The therapist marks a preparation or integration session that has started as completed; a dosing
        session is completed by recording its end."""
        session = self._session(Permission.COMPLETE_SESSION)
        return self._session_response(session_services.session_complete(actor=request.user, session=session))

    @extend_schema(request=ReasonSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a scheduled session with the reason."""
        session = self._session(Permission.CHANGE_SESSION)
        reason = self._input(ReasonSerializer).validated_data["reason"]
        return self._session_response(
            session_services.session_cancel(actor=request.user, session=session, reason=reason)
        )

    @extend_schema(request=RescheduleSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move a scheduled session, with the reason; a dosing session passes the gates at its new time."""
        session = self._session(Permission.CHANGE_SESSION)
        data = self._input(RescheduleSerializer).validated_data
        session = session_services.session_reschedule(
            actor=request.user,
            session=session,
            scheduled_at=data["scheduled_at"],
            reason=data["reason"],
            late_entry=data["late_entry"],
        )
        return self._session_response(session)

    @extend_schema(request=ReasonSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        """Record a no-show after the session's start time, with what is known."""
        session = self._session(Permission.CHANGE_SESSION)
        reason = self._input(ReasonSerializer).validated_data["reason"]
        return self._session_response(
            session_services.session_no_show(actor=request.user, session=session, reason=reason)
        )

    @extend_schema(request=ChecklistConfirmSerializer, responses=ChecklistSerializer)
    @action(detail=True, methods=["get", "post"])
    def checklist(self, request, pk=None):
        """The pre-dosing checklist: each item confirmed or not, and whether consent is current. POST confirms
        items (the patient their own; the therapist in the session)."""
        if request.method == "GET":
            session = self.audited_read(self._session(Permission.VIEW_CHECKLIST))
            status = 200
        else:
            session = self._session(Permission.CONFIRM_CHECKLIST)
            items = self._input(ChecklistConfirmSerializer).validated_data["items"]
            session_services.checklist_confirm(actor=request.user, session=session, items=items)
            status = 201
        session = self.get_queryset().select_related("patient", "dose_plan").get(pk=session.pk)
        return Response(ChecklistSerializer(session_selectors.checklist(session)).data, status=status)

    @extend_schema(request=None, responses=DosingRecordSerializer)
    @action(detail=True, methods=["get"], url_path="dosing-record")
    def dosing_record(self, request, pk=None):
        """The dosing record: vitals, go / hold, the dose, boosters, chaperone check-ins and the end."""
        session = self.audited_read(self._session(Permission.VIEW_DOSING_RECORD))
        return self._dosing_response(session)

    @extend_schema(request=VitalsInputSerializer, responses={201: VitalsSerializer})
    @action(detail=True, methods=["post"])
    def vitals(self, request, pk=None):
        """Record a set of vitals; `in_range` is judged against the medical group's thresholds, and a reading
        out of range raises a safety alert."""
        session = self._session(Permission.RECORD_DOSING)
        data = self._input(VitalsInputSerializer).validated_data
        reading = session_services.vitals_record(actor=request.user, session=session, **data)
        return Response(VitalsSerializer(reading).data, status=201)

    @extend_schema(request=DoseInputSerializer, responses=DosingRecordSerializer)
    @action(detail=True, methods=["post"])
    def dose(self, request, pk=None):
        """Mark the dose taken: 409 naming the gate when a dosing gate fails or the pre-dose vitals hold it."""
        session = self._session(Permission.RECORD_DOSING)
        data = self._input(DoseInputSerializer).validated_data
        session_services.dose_record(actor=request.user, session=session, **data)
        return self._dosing_response(session)

    @extend_schema(request=DoseInputSerializer, responses={201: BoosterSerializer})
    @action(detail=True, methods=["post"])
    def boosters(self, request, pk=None):
        """Record a booster: 409 when the dose plan does not allow it (count, size, minutes after the dose)."""
        session = self._session(Permission.RECORD_DOSING)
        data = self._input(DoseInputSerializer).validated_data
        booster = session_services.booster_record(actor=request.user, session=session, **data)
        return Response(BoosterSerializer(booster).data, status=201)

    @extend_schema(request=CheckInInputSerializer, responses={201: CheckInSerializer})
    @action(detail=True, methods=["post"], url_path="check-ins")
    def check_ins(self, request, pk=None):
        """Record a chaperone check-in (remote dosing sessions)."""
        session = self._session(Permission.RECORD_DOSING)
        data = self._input(CheckInInputSerializer).validated_data
        check_in = session_services.check_in_record(actor=request.user, session=session, **data)
        return Response(CheckInSerializer(check_in).data, status=201)

    @extend_schema(request=EndInputSerializer, responses=DosingRecordSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """Record the end of a dosing session (every end criterion met, after end vitals); completes it."""
        session = self._session(Permission.RECORD_DOSING)
        data = dict(self._input(EndInputSerializer).validated_data)
        ended_at = data.pop("ended_at")
        session_services.dosing_end(actor=request.user, session=session, criteria=data, ended_at=ended_at)
        return self._dosing_response(session)

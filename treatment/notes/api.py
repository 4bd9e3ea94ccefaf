"""Session documentation over the API.

- `/api/v1/session-notes/`: the progress note of each session, for the clinicians on the team. POST
  `{"session", "body"}` writes the session's draft (201 when new, 200 after), with `"sign": true` signs it;
  PATCH writes a draft; `sign` signs and locks it (400 naming each missing part; 409 once signed);
  `addenda` lists and adds signed addenda. A signed note never changes (409).
- `/api/v1/psychotherapy-notes/`: the caller's own psychotherapy notes only. Anybody else's is a 404
  whatever the caller's role: no route reveals one to anybody but its author.
- `/api/v1/integration-summaries/`: the structured summary of an integration session, for the team: drafted,
  signed (`sign`, or with the session's note) and locked, corrected by `addenda`, like a progress note.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from kapcare import access
from kapcare.access import Permission
from kapcare.api.serializers import StrictFieldsMixin
from kapcare.audit.models import AuditEvent
from kapcare.signing.api import AddendaAction, SignAction, save_then_sign
from treatment.course import selectors as course_selectors
from treatment.course.api import CourseScopedViewSet
from treatment.notes import selectors as note_selectors
from treatment.notes import services as note_services
from treatment.notes.models import (
    IntegrationSummary,
    IntegrationSummaryAddendum,
    PsychotherapyNote,
    SessionNote,
    SessionNoteAddendum,
)
from treatment.sessions.models import TherapySession


class SessionRefSerializer(serializers.Serializer):
    """The session a new record is for; looked up through kapcare.access before anything else."""

    session = serializers.UUIDField()


class SessionNoteAddendumSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = SessionNoteAddendum
        fields = ["id", "note", "author", "body", "signed_at", "content_hash"]
        read_only_fields = fields


class SessionNoteSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()
    session_kind = serializers.CharField(source="session.kind", read_only=True)
    addenda = SessionNoteAddendumSerializer(many=True, read_only=True)

    class Meta:
        model = SessionNote
        fields = [
            "id",
            "session",
            "session_kind",
            "patient",
            "author",
            "status",
            "body",
            "signed_at",
            "content_hash",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SessionNoteCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    session = serializers.UUIDField()
    body = serializers.CharField(allow_blank=True, max_length=note_services.NOTE_LIMIT)
    sign = serializers.BooleanField(default=False, help_text="Sign and lock the note after saving it.")


class SessionNoteWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=note_services.NOTE_LIMIT)


class NoteAddendumCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    body = serializers.CharField(max_length=note_services.ADDENDUM_LIMIT)


class PsychotherapyNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = PsychotherapyNote
        fields = ["id", "session", "patient", "body", "created_at", "updated_at"]
        read_only_fields = fields


class PsychotherapyNoteCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    session = serializers.UUIDField()
    body = serializers.CharField(max_length=note_services.NOTE_LIMIT)


class PsychotherapyNoteWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    body = serializers.CharField(max_length=note_services.NOTE_LIMIT)


class IntegrationSummaryAddendumSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = IntegrationSummaryAddendum
        fields = ["id", "summary", "author", "body", "signed_at", "content_hash"]
        read_only_fields = fields


class IntegrationSummarySerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()
    signed_by = serializers.StringRelatedField()
    addenda = IntegrationSummaryAddendumSerializer(many=True, read_only=True)

    class Meta:
        model = IntegrationSummary
        fields = [
            "id",
            "session",
            "patient",
            "author",
            "status",
            *note_services.SUMMARY_FIELDS,
            "signed_at",
            "signed_by",
            "content_hash",
            "addenda",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _summary_field():
    return serializers.CharField(required=False, allow_blank=True, max_length=note_services.SUMMARY_LIMIT)


class IntegrationSummaryWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    themes = _summary_field()
    insights = _summary_field()
    changes = _summary_field()
    concerns_for_prescriber = _summary_field()


class IntegrationSummaryCreateSerializer(IntegrationSummaryWriteSerializer):
    session = serializers.UUIDField()
    sign = serializers.BooleanField(default=False, help_text="Sign and lock the summary after saving it.")


class SessionDocumentViewSet(CourseScopedViewSet):
    """A record that belongs to one session; POST names the session, looked up through kapcare.access."""

    write_permission = None

    def session_from_body(self, data):
        """The session named in the body: 404 (audited) out of reach, 403 (audited) for a role that may not."""
        ref = SessionRefSerializer(data={"session": data.get("session")} if hasattr(data, "get") else {})
        ref.is_valid(raise_exception=True)
        session = access.get_visible(
            course_selectors.visible_sessions(self.request.user).select_related("patient"),
            ref.validated_data["session"],
            user=self.request.user,
            action=AuditEvent.Action.CREATE,
            model=TherapySession,
            patient_field="patient_id",
        )
        access.require(self.request.user, self.write_permission, session)
        return session

    def _respond(self, obj, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=status)


@extend_schema(tags=["session notes"])
@extend_schema_view(
    addenda=extend_schema(request=NoteAddendumCreateSerializer, responses=SessionNoteAddendumSerializer)
)
class SessionNoteViewSet(SignAction, AddendaAction, SessionDocumentViewSet):
    """Progress notes. POST writes the session's draft and signs it with `"sign": true` (a refused signature
    keeps the draft); `sign` signs it (400 naming each missing part: for a dosing session vitals, dose, end
    time, end criteria; 409 when already signed); a signed note takes addenda."""

    scope = staticmethod(lambda user: note_selectors.visible_session_notes(user).prefetch_related("addenda__author"))
    model = SessionNote
    serializer_class = SessionNoteSerializer
    view_permission = Permission.VIEW_SESSION_NOTE
    write_permission = Permission.WRITE_SESSION_NOTE
    http_method_names = ["get", "post", "patch", "head", "options"]
    addendum_serializer = SessionNoteAddendumSerializer
    addendum_input = NoteAddendumCreateSerializer
    addendum_field = "body"

    def sign_record(self, actor, note):
        return note_services.note_sign(actor=actor, session=note.session)

    def add_addendum(self, actor, note, text):
        return note_services.note_add_addendum(actor=actor, note=note, body=text)

    @extend_schema(request=SessionNoteCreateSerializer, responses={201: SessionNoteSerializer})
    def create(self, request):
        session = self.session_from_body(request.data)
        serializer = SessionNoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existed = note_selectors.session_has_note(session)
        note = save_then_sign(
            save=lambda: note_services.note_save_draft(actor=request.user, session=session, body=data["body"]),
            sign=lambda draft: self.sign_record(request.user, draft),
            wants_sign=data["sign"],
        )
        return self._respond(note, status=200 if existed else 201)

    @extend_schema(request=SessionNoteWriteSerializer)
    def partial_update(self, request, pk=None):
        note = self.get_object()
        access.require(request.user, Permission.WRITE_SESSION_NOTE, note)
        if note.is_signed:
            raise note_services.note_locked(note)
        serializer = SessionNoteWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data.get("body", note.body)
        note = note_services.note_save_draft(actor=request.user, session=note.session, body=body)
        return self._respond(note)


@extend_schema(tags=["psychotherapy notes"])
class PsychotherapyNoteViewSet(SessionDocumentViewSet):
    """The caller's own psychotherapy notes. Another user's note is a 404 for everybody, whatever the role."""

    scope = staticmethod(lambda user: note_selectors.visible_psychotherapy_notes(user).order_by("created_at", "id"))
    model = PsychotherapyNote
    serializer_class = PsychotherapyNoteSerializer
    view_permission = Permission.WRITE_PSYCHOTHERAPY_NOTE
    write_permission = Permission.WRITE_PSYCHOTHERAPY_NOTE
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=PsychotherapyNoteCreateSerializer, responses={201: PsychotherapyNoteSerializer})
    def create(self, request):
        session = self.session_from_body(request.data)
        serializer = PsychotherapyNoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        existed = self.get_queryset().filter(session=session).exists()
        note = note_services.psychotherapy_note_save(
            actor=request.user, session=session, body=serializer.validated_data["body"]
        )
        return self._respond(note, status=200 if existed else 201)

    @extend_schema(request=PsychotherapyNoteWriteSerializer)
    def partial_update(self, request, pk=None):
        note = self.get_object()
        serializer = PsychotherapyNoteWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data.get("body", note.body)
        note = note_services.psychotherapy_note_save(actor=request.user, session=note.session, body=body)
        return self._respond(note)


@extend_schema(tags=["integration summaries"])
@extend_schema_view(
    addenda=extend_schema(request=NoteAddendumCreateSerializer, responses=IntegrationSummaryAddendumSerializer)
)
class IntegrationSummaryViewSet(SignAction, AddendaAction, SessionDocumentViewSet):
    """Integration sessions' structured summaries. POST writes the session's draft (201 when new, 200 after) and
    signs it with `"sign": true` (a refused signature keeps the draft); `sign` signs it (400 naming what is
    missing; 409 once signed); a signed summary takes addenda. Signing the session's note signs its summary
    too, and freezes it (409)."""

    scope = staticmethod(
        lambda user: (
            note_selectors.visible_integration_summaries(user)
            .prefetch_related("addenda__author")
            .order_by("created_at", "id")
        )
    )
    model = IntegrationSummary
    serializer_class = IntegrationSummarySerializer
    view_permission = Permission.VIEW_SESSION_NOTE
    write_permission = Permission.WRITE_SESSION_NOTE
    http_method_names = ["get", "post", "patch", "head", "options"]
    addendum_serializer = IntegrationSummaryAddendumSerializer
    addendum_input = NoteAddendumCreateSerializer
    addendum_field = "body"

    def sign_record(self, actor, summary):
        return note_services.integration_summary_sign(actor=actor, summary=summary)

    def add_addendum(self, actor, summary, text):
        return note_services.integration_summary_add_addendum(actor=actor, summary=summary, body=text)

    @extend_schema(request=IntegrationSummaryCreateSerializer, responses={201: IntegrationSummarySerializer})
    def create(self, request):
        session = self.session_from_body(request.data)
        serializer = IntegrationSummaryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("session")
        wants_sign = data.pop("sign")
        existed = note_selectors.session_has_summary(session)
        summary = save_then_sign(
            save=lambda: note_services.integration_summary_save(actor=request.user, session=session, data=data),
            sign=lambda draft: self.sign_record(request.user, draft),
            wants_sign=wants_sign,
        )
        return self._respond(summary, status=200 if existed else 201)

    @extend_schema(request=IntegrationSummaryWriteSerializer)
    def partial_update(self, request, pk=None):
        summary = self.get_object()
        access.require(request.user, Permission.WRITE_SESSION_NOTE, summary)
        serializer = IntegrationSummaryWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {name: getattr(summary, name) for name in note_services.SUMMARY_FIELDS}
        data.update(serializer.validated_data)
        summary = note_services.integration_summary_save(actor=request.user, session=summary.session, data=data)
        return self._respond(summary)

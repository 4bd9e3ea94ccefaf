"""Serializers of the sessions API: the session, its changes, checklist and dosing record, and the inputs of
each action. Inputs are strict (an unknown field is a 400)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessments.serializers import StrictFieldsMixin
from kapcare import access
from kapcare.access import Permission
from treatment.sessions.models import (
    BoosterDose,
    ChaperoneCheckIn,
    ChecklistConfirmation,
    DosingRecord,
    TherapySession,
    VitalsReading,
)


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TherapySession
        fields = [
            "id",
            "patient",
            "course",
            "kind",
            "scheduled_at",
            "duration_minutes",
            "modality",
            "location",
            "video_link",
            "therapist",
            "chaperone_name",
            "chaperone_phone",
            "chaperone_email",
            "status",
            "status_reason",
            "status_changed_at",
            "dose_plan",
            "late_entry",
            "late_entry_reason",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields

    def to_representation(self, session):
        """A cancellation, no-show or late-entry reason is free text about the patient: the clinicians read it,
        not the coordinators who schedule nor the patient (kapcare.access, VIEW_SESSION_CHANGE_REASON)."""
        data = super().to_representation(session)
        request = self.context.get("request")
        if request is None or not access.can(request.user, Permission.VIEW_SESSION_CHANGE_REASON):
            data["status_reason"] = ""
            data["late_entry_reason"] = ""
        return data


class SessionCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    patient = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=TherapySession.Kind.choices)
    scheduled_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone offset.")
    duration_minutes = serializers.IntegerField(
        required=False, min_value=15, max_value=480, help_text="Default: 180 for dosing, 60 otherwise."
    )
    modality = serializers.ChoiceField(
        choices=TherapySession.Modality.choices, required=False, default=TherapySession.Modality.IN_PERSON
    )
    location = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    video_link = serializers.URLField(
        required=False, allow_blank=True, max_length=500, default="", help_text="Required for a remote session."
    )
    chaperone_name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Remote dosing; default: the patient's profile."
    )
    chaperone_phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    chaperone_email = serializers.EmailField(required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="A late entry (a start more than 15 minutes ago): why it is recorded after the fact.",
    )

    def details(self):
        data = dict(self.validated_data)
        chaperone = {
            key: data.pop(f"chaperone_{key}", "") for key in ("name", "phone", "email") if f"chaperone_{key}" in data
        }
        data.pop("patient")
        data["chaperone"] = {k: v for k, v in chaperone.items() if v} or None
        return data


class ReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class RescheduleSerializer(StrictFieldsMixin, serializers.Serializer):
    scheduled_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone offset.")
    reason = serializers.CharField(max_length=2000)
    late_entry = serializers.BooleanField(
        required=False, default=False, help_text="Moving it to a start more than 15 minutes ago: a late entry."
    )


class ChecklistConfirmSerializer(StrictFieldsMixin, serializers.Serializer):
    items = serializers.ListField(
        child=serializers.ChoiceField(choices=ChecklistConfirmation.Item.choices), min_length=1, max_length=4
    )


class ChecklistLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    label = serializers.CharField()
    confirmed = serializers.BooleanField(source="done")
    confirmed_at = serializers.DateTimeField(source="confirmed.confirmed_at", allow_null=True, default=None)
    confirmed_by = serializers.CharField(source="confirmed.confirmed_by", allow_null=True, default=None)


class ChecklistSerializer(serializers.Serializer):
    items = ChecklistLineSerializer(source="lines", many=True)
    consent_current = serializers.BooleanField()
    outstanding_consents = serializers.ListField(child=serializers.CharField())
    complete = serializers.BooleanField()


class VitalsSerializer(serializers.ModelSerializer):
    class Meta:
        model = VitalsReading
        fields = [
            "id",
            "phase",
            "systolic",
            "diastolic",
            "pulse",
            "spo2",
            "taken_at",
            "taken_by",
            "in_range",
            "out_of_range",
            "recorded_at",
        ]
        read_only_fields = fields


class VitalsInputSerializer(StrictFieldsMixin, serializers.Serializer):
    phase = serializers.ChoiceField(choices=VitalsReading.Phase.choices)
    systolic = serializers.IntegerField(min_value=50, max_value=300)
    diastolic = serializers.IntegerField(min_value=20, max_value=200)
    pulse = serializers.IntegerField(min_value=20, max_value=250)
    spo2 = serializers.IntegerField(min_value=50, max_value=100, required=False, allow_null=True, default=None)
    taken_by = serializers.ChoiceField(choices=VitalsReading.TakenBy.choices)
    taken_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: now.")


class DoseInputSerializer(StrictFieldsMixin, serializers.Serializer):
    dose_mg = serializers.DecimalField(max_digits=5, decimal_places=1, min_value=1, max_value=1000)
    taken_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: now.")


class CheckInInputSerializer(StrictFieldsMixin, serializers.Serializer):
    patient_ok = serializers.BooleanField(required=False, default=True)
    remark = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    checked_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: now.")


class EndInputSerializer(StrictFieldsMixin, serializers.Serializer):
    alert_and_oriented = serializers.BooleanField()
    vitals_near_baseline = serializers.BooleanField()
    safe_transport = serializers.BooleanField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: now.")


class BoosterSerializer(serializers.ModelSerializer):
    class Meta:
        model = BoosterDose
        fields = ["id", "dose_mg", "taken_at", "recorded_at"]
        read_only_fields = fields


class CheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChaperoneCheckIn
        fields = ["id", "checked_at", "patient_ok", "remark", "recorded_at"]
        read_only_fields = fields


class DosingRecordFieldsSerializer(serializers.ModelSerializer):
    class Meta:
        model = DosingRecord
        fields = [
            "dose_mg",
            "dose_taken_at",
            "ended_at",
            "alert_and_oriented",
            "vitals_near_baseline",
            "safe_transport",
        ]
        read_only_fields = fields


class HoldSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class DosingRecordSerializer(serializers.Serializer):
    """A dosing session's record as the session page shows it (session_selectors.DosingView)."""

    session = serializers.UUIDField(source="session_id")
    record = DosingRecordFieldsSerializer(allow_null=True)
    go = serializers.SerializerMethodField(help_text="True when the dose may be marked taken now.")
    hold = HoldSerializer(allow_null=True, help_text="Why the dose cannot be marked taken now (the gate), or null.")
    vitals = VitalsSerializer(many=True)
    boosters = BoosterSerializer(many=True)
    boosters_left = serializers.IntegerField()
    check_ins = CheckInSerializer(many=True)
    next_check_in_due = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.BooleanField())
    def get_go(self, view):
        return view.hold is None and not view.dose_taken and view.session_status == TherapySession.Status.SCHEDULED

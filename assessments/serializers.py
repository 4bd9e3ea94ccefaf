from rest_framework import serializers

from kapcare.api.serializers import StrictFieldsMixin

from .models import Intake, IntakeMedication, ScreeningFlag
from .services import ANSWER_FIELDS, MEDICATION_FIELDS

STATUS_FIELDS = ["id", "patient", "status", "created_at", "updated_at", "submitted_at"]


class IntakeStatusSerializer(serializers.ModelSerializer):
    """What a coordinator sees: whether the intake is done, and how many flags it raised."""

    flag_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Intake
        fields = [*STATUS_FIELDS, "flag_count"]
        read_only_fields = fields


class MedicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntakeMedication
        fields = list(MEDICATION_FIELDS)


class IntakeAnswersSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """The patient's answers and medicines, as the patient sees them: never the screening flags."""

    medications = MedicationSerializer(many=True, required=False)

    class Meta:
        model = Intake
        fields = [*STATUS_FIELDS, *ANSWER_FIELDS, "medications"]
        read_only_fields = STATUS_FIELDS


class FlagSerializer(serializers.ModelSerializer):
    """A screening flag; its `id` is what an evaluation's `flag_reviews` name."""

    class Meta:
        model = ScreeningFlag
        fields = ["id", "code", "severity", "reason", "created_at"]


class IntakeClinicalSerializer(IntakeAnswersSerializer):
    """Answers, medicines and the screening flags: for the clinicians on the care team."""

    flags = FlagSerializer(many=True, read_only=True)
    flag_count = serializers.IntegerField(read_only=True)

    class Meta(IntakeAnswersSerializer.Meta):
        fields = [*IntakeAnswersSerializer.Meta.fields, "flag_count", "flags"]
        read_only_fields = [*STATUS_FIELDS, "flag_count", "flags"]

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from kapcare import access
from kapcare.access import Permission
from kapcare.api.serializers import StrictFieldsMixin

from .models import IdentityChange, Patient, Referral
from .services import REFERRAL_INPUT
from .validators import validate_adult_date_of_birth

TEXT_LIMIT = 5000  # characters in each free-text referral detail


def _detail():
    return serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=TEXT_LIMIT)


class PatientSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    status = serializers.CharField(source="stage", read_only=True, help_text="The stage of the course of care.")

    class Meta:
        model = Patient
        fields = ["id", "first_name", "last_name", "email", "date_of_birth", "phone", "state", "time_zone", "status"]
        read_only_fields = ["id", "status"]
        extra_kwargs = {
            "first_name": {"allow_blank": False},
            "last_name": {"allow_blank": False},
            "phone": {"required": False},
            "time_zone": {"required": False},
        }

    def validate_date_of_birth(self, value):
        try:
            validate_adult_date_of_birth(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return value

    def validate_email(self, value):
        return value.lower()


class ReferralSerializer(serializers.ModelSerializer):
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=Referral.Reason.choices), allow_empty=True)

    class Meta:
        model = Referral
        fields = [
            "reasons",
            "reason_details",
            "current_diagnoses",
            "current_treatment",
            "current_medications",
            "clinical_summary",
        ]


class PatientDetailSerializer(PatientSerializer):
    """One patient; the referral's clinical content only for the clinicians on the team."""

    referral = ReferralSerializer(read_only=True, allow_null=True)

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "referral"]

    def to_representation(self, patient):
        data = super().to_representation(patient)
        if not access.can(self.context["request"].user, Permission.VIEW_REFERRAL_DETAIL):
            data["referral"] = None
        return data


class ReferralResultSerializer(PatientDetailSerializer):
    """The answer to a referral: the patient, and `prescriber_notice` when no prescriber could be assigned (no
    approved prescriber holds a licence in the patient's state): the coordinator's assignment queue has it."""

    prescriber_notice = serializers.CharField(read_only=True, allow_null=True, default=None)

    class Meta(PatientDetailSerializer.Meta):
        fields = [*PatientDetailSerializer.Meta.fields, "prescriber_notice"]


class ReferralCreateSerializer(PatientSerializer):
    """A therapist's referral: the patient's details plus what the prescriber needs to know."""

    referral_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=Referral.Reason.choices),
        required=False,
        write_only=True,
        help_text="Why the patient is referred: " + ", ".join(Referral.Reason.values) + ".",
    )
    reason_for_referral = _detail()
    current_diagnoses = _detail()
    current_treatment = _detail()
    current_medications = _detail()
    clinical_summary = _detail()

    class Meta(PatientSerializer.Meta):
        fields = [
            *PatientSerializer.Meta.fields,
            *(
                "referral_reasons",
                "reason_for_referral",
                "current_diagnoses",
                "current_treatment",
                "current_medications",
                "clinical_summary",
            ),
        ]

    def split(self):
        """(patient fields, referral details) from the validated input."""
        data = dict(self.validated_data)
        referral = {field: data.pop(field) for field in REFERRAL_INPUT if field in data}
        return data, referral


class IdentityChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by_name", help_text="As the person was named at the time.")

    class Meta:
        model = IdentityChange
        fields = ["id", "field", "old_value", "new_value", "changed_by", "changed_at"]
        read_only_fields = fields

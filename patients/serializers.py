from datetime import date

from rest_framework import serializers

from .models import Patient

OLDEST_AGE_YEARS = 120


class PatientSerializer(serializers.ModelSerializer):
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
        today = date.today()
        age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
        if age < 18:
            raise serializers.ValidationError(
                "Ketamine-assisted psychotherapy here is for adults: the patient must be 18 or older."
            )
        if age > OLDEST_AGE_YEARS:
            raise serializers.ValidationError("Check the year of birth.")
        return value

    def validate_email(self, value):
        return value.lower()

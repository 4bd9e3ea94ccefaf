from rest_framework import serializers


class StrictFieldsMixin:
    """Refuse keys the endpoint does not know, or may not set, instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(dict.fromkeys(unknown, "This field cannot be set here."))
        return super().to_internal_value(data)


class PatientRefSerializer(serializers.Serializer):
    """The patient a new record is for; looked up through kapcare.access before anything else."""

    patient = serializers.UUIDField()


class PatientQuerySerializer(serializers.Serializer):
    patient = serializers.UUIDField(required=False, help_text="Only this patient's records.")

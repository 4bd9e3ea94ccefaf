from rest_framework import serializers

from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", help_text="The actor's name as it was at the time.")
    actor_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_id",
            "actor_role",
            "action",
            "outcome",
            "object_type",
            "object_id",
            "fields",
        ]

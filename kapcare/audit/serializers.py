from rest_framework import serializers

from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "actor_role", "action", "outcome", "object_type", "object_id"]

    def get_actor(self, event) -> str:
        if event.actor is None:
            return "Not signed in"
        return event.actor.get_full_name() or event.actor.email

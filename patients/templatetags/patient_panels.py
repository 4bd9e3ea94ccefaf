"""Dashboard panels of patients kept apart from the dashboard view (each reads and audits its own rows)."""

from django import template

from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many
from patients import selectors

register = template.Library()

PANEL_LIMIT = 10


@register.inclusion_tag("patients/_assignment_queue.html", takes_context=True)
def assignment_queue_panel(context):
    """The coordinator's assignment queue: patients waiting for a prescriber or a therapist on their team."""
    user = context["request"].user
    needs = selectors.assignment_queue(user, limit=PANEL_LIMIT)
    audit_record_many(user, AuditEvent.Action.LIST, [need.patient for need in needs])
    return {"needs": needs}

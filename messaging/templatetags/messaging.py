"""The notification badge of the base layout and the unread message count.

Tags rather than view code, so the dashboards (treatment) and the base layout show messaging's counts without
any lower app importing messaging. Each tag costs at most one query."""

from django import template
from django.urls import NoReverseMatch, reverse

from .. import selectors

register = template.Library()


@register.inclusion_tag("messaging/_badge.html", takes_context=True)
def notification_badge(context):
    """The header's link to the notifications with the unread count: one cache read (a COUNT query when it
    changed)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"hidden": True}
    # A dashboard read it with its other counts (one cache round trip for all): the same summary.
    unread = context.get("notifications_unread")
    return {"unread": selectors.unread_badge(user) if unread is None else unread, "user": user}


@register.simple_tag(takes_context=True)
def unread_message_count(context):
    """Messages sent to the user and not read yet, in any of their threads. One query."""
    return selectors.unread_message_count(context["request"].user)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def source_url(message):
    """Where a structured message's card leads: the record it came from (ids only)."""
    if not message.source_type:
        return ""
    patient_id = message.patient_id
    if message.source_type == "treatment.doseplan":
        return reverse("treatment:patient-dose-plan", args=[patient_id])
    if message.source_type == "treatment.integrationsummary" and message.card.get("session"):
        try:
            return reverse("treatment:session-notes", args=[patient_id, message.card["session"]])
        except NoReverseMatch:  # the session pages moved: the chart still leads there
            return reverse("dashboards:patient-chart", args=[patient_id])
    if message.source_type == "treatment.adverseevent":
        return reverse("dashboards:patient-chart", args=[patient_id]) + "#chart-side-effects-heading"
    return reverse("dashboards:patient-chart", args=[patient_id])

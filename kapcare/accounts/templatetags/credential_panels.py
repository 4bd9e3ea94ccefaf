"""The coordinator's panel of credentials expiring soon (kept apart from the dashboard view)."""

from django import template

from kapcare.accounts import selectors

register = template.Library()


@register.inclusion_tag("accounts/_expiring_credentials.html", takes_context=True)
def expiring_credentials_panel(context):
    return {"credentials": selectors.expiring_credentials(context["request"].user, limit=10)}

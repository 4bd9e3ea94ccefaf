from datetime import UTC

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format

from kapcare import access
from kapcare.access import Permission

register = template.Library()


@register.inclusion_tag("records/_record_link.html", takes_context=True)
def record_link(context, patient):
    """ "Download my record" for the patient, "Release of information" for the clinicians on the team."""
    user = context["request"].user
    return {
        "patient": patient,
        "can_export": access.can(user, Permission.EXPORT_RECORD),
        "is_patient": user.is_patient,
    }


@register.filter
def when(value):
    """An ISO 8601 time of the record's data, as a person reads it (UTC)."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return value or "—"
    return date_format(moment.astimezone(UTC), "M j, Y H:i") + " UTC"

"""The reminder parts of pages other apps render (the chart, the patient's profile), as tags so those
apps never import the reminders app. Each costs at most one query."""

from django import template

from .. import selectors
from ..forms import ReminderPreferenceForm

register = template.Library()


@register.inclusion_tag("reminders/_chart_reminders.html", takes_context=True)
def chart_reminders(context, patient):
    """What was sent to whom and when about this patient, and what failed and why."""
    user = context["request"].user
    return {"reminders": selectors.chart_log(user, patient), "patient": patient, "user": user}


@register.inclusion_tag("reminders/_preferences_form.html", takes_context=True)
def reminder_preferences(context, patient):
    form = ReminderPreferenceForm(preference=selectors.preference_for(patient))
    return {"form": form, "csrf_token": context.get("csrf_token")}


@register.filter
def count_of(counts, key):
    return counts.get(key, 0)

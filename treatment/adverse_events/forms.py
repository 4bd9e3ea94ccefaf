from django import forms

from treatment.adverse_events.models import AdverseEvent


class AdverseEventForm(forms.Form):
    """The side-effect report, for the therapist on the chart and the patient in the portal."""

    kind = forms.ChoiceField(label="What happened", choices=AdverseEvent.Kind.choices)
    description = forms.CharField(
        label="Describe it",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required for “other”.",
    )
    severity = forms.ChoiceField(
        choices=AdverseEvent.Severity.choices,
        widget=forms.RadioSelect,
        help_text="Severe: it needed urgent help or stopped the session. Both clinicians are alerted at once.",
    )
    onset_minutes = forms.IntegerField(
        label="Minutes after the dose it began",
        required=False,
        min_value=0,
        max_value=AdverseEvent.MAX_ONSET_MINUTES,
    )
    action_taken = forms.ChoiceField(choices=AdverseEvent.Action.choices, initial=AdverseEvent.Action.NONE)
    action_details = forms.CharField(
        label="What was done", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    who_was_told = forms.CharField(
        label="Who was told", required=False, max_length=200, help_text="E.g. the prescriber, the on-call line."
    )

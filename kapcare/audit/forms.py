"""The access history's filters (page and API): who, refused or allowed, and between which dates (UTC)."""

from django import forms

from .models import AuditEvent


class AccessHistoryFilter(forms.Form):
    outcome = forms.ChoiceField(label="Result", required=False, choices=[("", "Any"), *AuditEvent.Outcome.choices])
    actor = forms.TypedChoiceField(label="Who", required=False, empty_value=None, choices=[("", "Anyone")])
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Anyone"), *((str(pk), name) for pk, name in actors)]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

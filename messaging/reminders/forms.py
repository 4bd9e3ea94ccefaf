from django import forms

from . import kinds
from .models import Reminder


def optional_kind_choices():
    labels = dict(Reminder.Kind.choices)
    return [(code, labels[code]) for code in kinds.non_essential_patient_kinds()]


class ReminderPreferenceForm(forms.Form):
    quiet_start = forms.TimeField(
        label="Quiet from",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="No reminders reach you between these times, in your own time zone.",
    )
    quiet_end = forms.TimeField(label="Quiet until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    wanted = forms.MultipleChoiceField(
        label="Optional reminders I want",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Reminders about your dosing sessions and their checklist always come: they keep you safe.",
    )

    def __init__(self, *args, preference, **kwargs):
        optional = [code for code, _ in optional_kind_choices()]
        initial = {
            "quiet_start": preference.quiet_start,
            "quiet_end": preference.quiet_end,
            "wanted": [code for code in optional if code not in (preference.muted_kinds or [])],
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["wanted"].choices = optional_kind_choices()

    def muted_kinds(self):
        wanted = set(self.cleaned_data["wanted"])
        return [code for code, _ in optional_kind_choices() if code not in wanted]

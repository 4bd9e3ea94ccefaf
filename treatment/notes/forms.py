"""Forms of session documentation: the progress note, its addenda, the psychotherapy note and the
integration summary. Each has a prefix so they sit on the session page beside its other forms."""

from django import forms

from treatment.notes.models import IntegrationSummary
from treatment.notes.services import ADDENDUM_LIMIT, NOTE_LIMIT, SUMMARY_FIELDS


class ProgressNoteForm(forms.Form):
    prefix = "note"
    body = forms.CharField(
        label="Progress note",
        required=False,
        max_length=NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="For the care team. Save a draft as you go; signing locks it with a content hash.",
    )


class NoteAddendumForm(forms.Form):
    prefix = "addendum"
    body = forms.CharField(
        label="Addendum",
        max_length=ADDENDUM_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A correction or addition, signed when you add it. The note itself stays as it was signed.",
    )


class SummaryAddendumForm(NoteAddendumForm):
    prefix = "summary-addendum"


class PsychotherapyNoteForm(forms.Form):
    prefix = "psychotherapy"
    body = forms.CharField(
        label="Psychotherapy note (private)",
        max_length=NOTE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class IntegrationSummaryForm(forms.ModelForm):
    prefix = "summary"

    class Meta:
        model = IntegrationSummary
        fields = list(SUMMARY_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in SUMMARY_FIELDS}

from django import forms


class ReleaseForm(forms.Form):
    """What a clinician states when releasing the record: who receives it and why."""

    recipient = forms.CharField(
        label="Recipient",
        max_length=300,
        help_text="The clinician or organization receiving the record, e.g. “Dr. Rivera, Bayview Psychiatry”.",
    )
    release_purpose = forms.CharField(
        label="Purpose of the release", max_length=300, help_text="For example: continuity of care after discharge."
    )

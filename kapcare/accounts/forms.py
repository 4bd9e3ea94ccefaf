from django import forms

EXPIRY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. the system that will use it.")
    days = forms.TypedChoiceField(label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial=30)

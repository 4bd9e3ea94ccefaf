from django import forms


class ConsentSignForm(forms.Form):
    """The patient's signature: their typed full name and an explicit statement that they understood."""

    typed_name = forms.CharField(
        label="Type your full name to sign",
        max_length=200,
        help_text="Your first and last name, as your care team has them.",
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words", "spellcheck": "false"}),
    )
    understood = forms.BooleanField(
        label="I have read and understand this document.",
        error_messages={"required": "Please confirm that you have read and understand this document."},
    )


class SetPasswordForm(forms.Form):
    date_of_birth = forms.DateField(
        label="Your date of birth",
        help_text="To make sure this invitation reached you and nobody else.",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
    )
    password1 = forms.CharField(
        label="Choose a password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Type it again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords do not match.")
        return cleaned


class ReconciliationResolveForm(forms.Form):
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=500, help_text="For example: confirmed by phone."
    )

from django import forms


class CompletionForm(forms.Form):
    completed_on = forms.DateField(label="Completed on", widget=forms.DateInput(attrs={"type": "date"}))
    certificate_number = forms.CharField(max_length=100)
    certificate = forms.FileField(help_text="A PDF, PNG or JPEG of the certificate.")

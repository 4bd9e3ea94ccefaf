from django import forms

from .models import Course


class CompletionForm(forms.Form):
    completed_on = forms.DateField(label="Completed on", widget=forms.DateInput(attrs={"type": "date"}))
    certificate_number = forms.CharField(max_length=100)
    certificate = forms.FileField(help_text="A PDF, PNG or JPEG of the certificate.")


class CourseForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = ["title", "provider", "accrediting_body", "ce_hours", "required_for", "is_kap_training"]

from django import forms
from django.contrib.auth import get_user_model

from kapcare.us_states import USState
from patients.models import Patient, Referral
from patients.services import PROFILE_FIELDS
from patients.validators import validate_adult_date_of_birth


class DateInput(forms.DateInput):
    input_type = "date"


class ReferralForm(forms.Form):
    """The therapist's "Refer a client" form. Starred fields are what the prescriber needs first."""

    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField(label="E-mail address", help_text="The invitation to the portal goes here.")
    date_of_birth = forms.DateField(widget=DateInput, validators=[validate_adult_date_of_birth])
    state = forms.ChoiceField(label="US state where the patient lives", choices=[("", "Choose…"), *USState.choices])
    phone = forms.CharField(max_length=30, required=False)
    referral_reasons = forms.MultipleChoiceField(
        label="Reasons for referral", choices=Referral.Reason.choices, widget=forms.CheckboxSelectMultiple
    )
    reason_for_referral = forms.CharField(label="Reason for referral, in your words", widget=forms.Textarea)
    current_diagnoses = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    current_treatment = forms.CharField(
        label="Current treatment (therapy, other prescribers)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    current_medications = forms.CharField(
        label="Current medications, as known", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    clinical_summary = forms.CharField(label="Clinical summary for the prescriber", widget=forms.Textarea)

    REFERRAL_FIELDS = {
        "referral_reasons": "reasons",
        "reason_for_referral": "reason_details",
        "current_diagnoses": "current_diagnoses",
        "current_treatment": "current_treatment",
        "current_medications": "current_medications",
        "clinical_summary": "clinical_summary",
    }

    def split(self):
        """(patient fields, referral details) for patients.services.patient_refer."""
        data = dict(self.cleaned_data)
        referral = {target: data.pop(source) for source, target in self.REFERRAL_FIELDS.items()}
        return data, referral


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = PROFILE_FIELDS
        labels = {
            "emergency_contact_name": "Emergency contact: name",
            "emergency_contact_phone": "Emergency contact: phone",
            "emergency_contact_relationship": "Emergency contact: relationship to you",
            "chaperone_name": "Chaperone for remote sessions: name",
            "chaperone_phone": "Chaperone: phone",
            "chaperone_email": "Chaperone: e-mail (optional)",
        }
        help_texts = {
            "time_zone": "For example America/Los_Angeles. Reminders and session times use it.",
            "chaperone_name": "A trusted adult (18+) who stays with you in person during remote dosing sessions.",
        }


class SetPasswordForm(forms.Form):
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


class AssignPrescriberForm(forms.Form):
    prescriber = forms.ModelChoiceField(queryset=get_user_model().objects.none(), empty_label="Choose a prescriber…")

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["prescriber"].queryset = User.objects.filter(
            role=User.Role.PRESCRIBER, organization_id=patient.medical_group_id, is_active=True
        ).select_related("clinician_profile")
        self.fields["prescriber"].label_from_instance = self._label

    @staticmethod
    def _label(user):
        profile = getattr(user, "clinician_profile", None)
        licence = f"{profile.licence_state}, until {profile.licence_expires:%b %Y}" if profile else "no licence on file"
        return f"{user} ({licence})"

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from kapcare.accounts.models import Licence
from kapcare.us_states import USState

from .models import Patient, Referral
from .serializers import TEXT_LIMIT
from .services import PROFILE_FIELDS, REFERRAL_INPUT
from .validators import validate_adult_date_of_birth


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


class DateInput(forms.DateInput):
    input_type = "date"


def _text(label, *, required=False):
    rows = 6 if required else 3
    return forms.CharField(
        label=label, required=required, max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": rows})
    )


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
    reason_for_referral = _text("Reason for referral, in your words", required=True)
    current_diagnoses = _text("Current diagnoses")
    current_treatment = _text("Current treatment (therapy, other prescribers)")
    current_medications = _text("Current medications, as known")
    clinical_summary = _text("Clinical summary for the prescriber", required=True)

    def split(self):
        """(patient fields, referral details) for patients.services.patient_refer."""
        data = dict(self.cleaned_data)
        referral = {field: data.pop(field) for field in REFERRAL_INPUT}
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


def label_with_licence(field, state):
    """Offer each clinician of `field` with their licence in the patient's state (one query, annotated)."""
    field.queryset = field.queryset.annotate(
        licence_until=Subquery(
            Licence.objects.filter(clinician=OuterRef("pk"), state=state)
            .order_by("-expires_on")
            .values("expires_on")[:1]
        )
    )
    field.label_from_instance = lambda user: (
        f"{user} ({state}, until {user.licence_until:%b %Y})"
        if user.licence_until
        else f"{user} (no licence in {state} on file)"
    )


class AssignPrescriberForm(forms.Form):
    prescriber = forms.ModelChoiceField(queryset=get_user_model().objects.none(), empty_label="Choose a prescriber…")

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["prescriber"].queryset = User.objects.filter(
            role=User.Role.PRESCRIBER, organization_id=patient.medical_group_id, is_active=True
        )
        label_with_licence(self.fields["prescriber"], patient.state)


class AssignTherapistForm(forms.Form):
    therapist = forms.ModelChoiceField(queryset=get_user_model().objects.none(), empty_label="Choose a therapist…")

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["therapist"].queryset = User.objects.filter(
            role=User.Role.THERAPIST, organization__medical_group_id=patient.medical_group_id, is_active=True
        ).select_related("organization")
        label_with_licence(self.fields["therapist"], patient.state)


class AcknowledgeAlertForm(forms.Form):
    note = forms.CharField(label="Action taken", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), strip=True)

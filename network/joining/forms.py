from django import forms

from kapcare.accounts.models import Licence, Organization
from kapcare.us_states import USState

from .models import Application, CredentialCheck, validate_npi

DATE = forms.DateInput(attrs={"type": "date"})


class DeclarationForm(forms.ModelForm):
    """What the applicant declares about themself (the credentials are the formsets below)."""

    npi = forms.CharField(label="NPI", max_length=10, validators=[validate_npi])

    class Meta:
        model = Application
        fields = list(Application.APPLICANT_FIELDS)
        widgets = {"malpractice_expires_on": DATE, "training_completed_on": DATE}


class JoinForm(DeclarationForm):
    """The public page: also who applies, to which medical group, as what."""

    email = forms.EmailField(label="E-mail address")
    medical_group = forms.ModelChoiceField(queryset=Organization.objects.filter(kind=Organization.Kind.MEDICAL_GROUP))
    role = forms.ChoiceField(choices=Application.ROLES, label="I apply as")

    field_order = ["email", "role", "medical_group"]


BLANK = [("", "---------")]  # an empty row stays unchanged, so the formset skips it


class LicenceForm(forms.Form):
    kind = forms.ChoiceField(choices=BLANK + Licence.Kind.choices, label="Licence type")
    state = forms.ChoiceField(choices=BLANK + USState.choices)
    number = forms.CharField(max_length=50)
    expires_on = forms.DateField(widget=DATE)


class DEAForm(forms.Form):
    state = forms.ChoiceField(choices=BLANK + USState.choices)
    number = forms.CharField(max_length=9, label="DEA number")
    expires_on = forms.DateField(widget=DATE)


LicenceFormSet = forms.formset_factory(LicenceForm, extra=3, max_num=20, absolute_max=20)
DEAFormSet = forms.formset_factory(DEAForm, extra=3, max_num=20, absolute_max=20)


def credential_formsets(data=None, application=None):
    """(licences, DEA registrations) formsets, filled from `application` when it has some already."""
    licences = [
        {"kind": lic.kind, "state": lic.state, "number": lic.number, "expires_on": lic.expires_on}
        for lic in (application.licences.all() if application else [])
    ]
    dea = [
        {"state": d.state, "number": d.number, "expires_on": d.expires_on}
        for d in (application.dea_registrations.all() if application else [])
    ]
    return (
        LicenceFormSet(data, initial=licences or None, prefix="licences"),
        DEAFormSet(data, initial=dea or None, prefix="dea"),
    )


def filled(formset):
    return [form.cleaned_data for form in formset if form.cleaned_data]


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    role = forms.ChoiceField(choices=Application.ROLES)


class CheckForm(forms.Form):
    item = forms.CharField(widget=forms.HiddenInput, max_length=60)
    outcome = forms.ChoiceField(choices=CredentialCheck.Outcome.choices)
    source = forms.CharField(
        max_length=500, label="Checked against", help_text="The registry looked up, or the document and its reference."
    )


class CorrectionsForm(forms.Form):
    corrections = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class DecisionForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False)
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        if application is not None:
            self.fields["practice"].queryset = Organization.objects.filter(medical_group=application.medical_group)

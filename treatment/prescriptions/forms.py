"""Forms of the prescriber's pages: prescribe from the signed dose plan, attest a PDMP check, cancel; and the
controlled-substance log of a site (receipt, administration, witnessed waste, count) and the site itself. They
validate the shape of the input; the rules are the services' (the same for the API)."""

from django import forms
from django.utils import timezone

from kapcare.us_states import USState

from .models import MAX_REFILLS, PDMPCheck, Prescription

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PrescribeForm(forms.Form):
    strength_mg = forms.DecimalField(
        label="Strength (mg per tablet, or mg per mL)", max_digits=6, decimal_places=1, min_value=1, required=False
    )
    quantity = forms.DecimalField(
        label="Quantity per fill (tablets, or mL)",
        max_digits=6,
        decimal_places=1,
        min_value=0.1,
        required=False,
        help_text="Prefilled with what the plan's remaining doses need. Left empty, the plan's need is split "
        "over the fills.",
    )
    quantity_reason = forms.CharField(
        label="Why a different quantity",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when the quantity (times the fills) differs from what the plan needs.",
    )
    refills = forms.IntegerField(
        label="Refills", min_value=0, initial=0, help_text=f"Schedule III: at most {MAX_REFILLS}, within 6 months."
    )
    days_supply = forms.IntegerField(label="Days' supply", min_value=1, max_value=180)
    directions = forms.CharField(label="Directions", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    pharmacy_name = forms.CharField(label="Pharmacy name", max_length=200)
    pharmacy_address = forms.CharField(label="Pharmacy address", max_length=300)
    pharmacy_phone = forms.CharField(label="Pharmacy phone", max_length=30)
    pharmacy_ncpdp_id = forms.RegexField(
        label="Pharmacy NCPDP id", regex=r"^\d{7}$", error_messages={"invalid": "An NCPDP id is 7 digits."}
    )
    channel = forms.ChoiceField(
        label="Transmission channel", choices=Prescription.Channel.choices, widget=forms.RadioSelect
    )
    telemedicine_attested = forms.BooleanField(
        label="I attest that the evaluation was a real-time audio-video encounter and that this prescription "
        "follows the DEA telemedicine flexibilities.",
        required=False,
    )
    refills_left_reason = forms.CharField(
        label="Why a new prescription while an earlier one can still be filled",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, facts, **kwargs):
        super().__init__(*args, **kwargs)
        if not facts.telemedicine_attestation_required:
            del self.fields["telemedicine_attested"]
        if not facts.earlier_with_fills_left:
            del self.fields["refills_left_reason"]
        if facts.strength_mg:
            self.fields["strength_mg"].widget.attrs["readonly"] = True
            self.fields["strength_mg"].help_text = "The dose plan's tablets."

    @staticmethod
    def initial_for(facts):
        plan = facts.plan
        return {
            "strength_mg": facts.strength_mg,
            "quantity": facts.quantity_left,
            "refills": 0,
            "directions": plan.instructions_patient if plan else "",
            "channel": Prescription.Channel.PRINTED,
        }

    def data_for_service(self):
        data = dict(self.cleaned_data)
        data.setdefault("telemedicine_attested", False)
        data.setdefault("refills_left_reason", "")
        return data


class PDMPCheckForm(forms.Form):
    checked_on = forms.DateField(label="Checked on", widget=DATE)
    state = forms.ChoiceField(label="State", choices=USState.choices)
    result = forms.ChoiceField(label="Result", choices=PDMPCheck.Result.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when the check found concerns.",
    )

    @staticmethod
    def initial_for(patient):
        return {"checked_on": timezone.localdate(), "state": patient.state}


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason (sent to the pharmacy)", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


# The controlled-substance log of a site ------------------------------------------------------------------------

MG = {"max_digits": 8, "decimal_places": 1}


class StockSiteForm(forms.Form):
    name = forms.CharField(label="Site name", max_length=200)
    address = forms.CharField(label="Address", max_length=300)
    clinicians = forms.ModelMultipleChoiceField(
        label="Clinicians working at the site",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The medical group's prescribers keep every site's log; add the therapists who work here.",
    )

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinicians"].queryset = clinicians
        self.fields["clinicians"].label_from_instance = _with_role


def _with_role(user):
    return f"{user.get_full_name()} ({user.get_role_display()})"


class _LotForm(forms.Form):
    """A form naming one of the site's lots."""

    lot = forms.ChoiceField(label="Lot")

    def __init__(self, *args, lots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = [("", "Choose a lot"), *[(lot, lot) for lot in lots]]


class ReceiptForm(forms.Form):
    lot = forms.CharField(label="Lot number", max_length=50)
    expires_on = forms.DateField(label="Expires on", widget=DATE)
    quantity_mg = forms.DecimalField(label="Quantity received (mg)", min_value=0.1, **MG)
    note = forms.CharField(label="Note", required=False, max_length=300)


class AdministrationForm(_LotForm):
    session = forms.ChoiceField(label="Dosing session")
    quantity_mg = forms.DecimalField(
        label="Quantity given (mg)",
        min_value=0.1,
        required=False,
        help_text="Left empty: the dose and boosters recorded in the session.",
        **MG,
    )

    def __init__(self, *args, sessions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [
            ("", "Choose a session"),
            *[(str(s.pk), f"{s.patient.full_name}, {s.scheduled_at:%b %-d, %Y}") for s in sessions],
        ]


class WasteForm(_LotForm):
    quantity_mg = forms.DecimalField(label="Quantity wasted (mg)", min_value=0.1, **MG)
    witness = forms.ChoiceField(label="Witness (a second clinician)")
    witness_password = forms.CharField(
        label="Witness's password (typed by the witness)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="The witness confirms the waste with their own password, now.",
    )
    note = forms.CharField(label="What was wasted and why", max_length=300)

    def __init__(self, *args, witnesses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["witness"].choices = [
            ("", "Choose the witness"),
            *[(str(user.pk), user.get_full_name()) for user in witnesses],
        ]


class CountForm(_LotForm):
    counted_mg = forms.DecimalField(label="Counted (mg)", min_value=0, **MG)
    note = forms.CharField(label="Note", required=False, max_length=300)

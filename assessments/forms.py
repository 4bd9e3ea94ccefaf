"""The intake form (every answer optional until submission) and the medicines formset."""

from django import forms

from .models import Intake, IntakeMedication, SubstanceUseDisorder
from .questions import SECTIONS, label_of
from .services import ANSWER_FIELDS, MEDICATION_FIELDS

YES_NO = [(True, "Yes"), (False, "No")]


class IntakeForm(forms.ModelForm):
    """Validates the shape of each answer (numbers in range, dates); completeness is the submit service's."""

    class Meta:
        model = Intake
        fields = ANSWER_FIELDS
        widgets = {
            "substance_use_remission_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "weight_kg": forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            field.label = label_of(name)
            model_field = Intake._meta.get_field(name)
            if isinstance(field, forms.NullBooleanField):
                field.widget = forms.RadioSelect(choices=YES_NO)
            elif model_field.get_internal_type() == "TextField":
                field.widget.attrs.update({"rows": 2})
            elif model_field.get_internal_type() == "PositiveSmallIntegerField":
                field.widget.attrs.update({"inputmode": "numeric"})
        self.fields["substance_use_disorder"] = forms.ChoiceField(
            label=label_of("substance_use_disorder"),
            choices=SubstanceUseDisorder.choices,
            widget=forms.RadioSelect,
            required=False,
            help_text=Intake._meta.get_field("substance_use_disorder").help_text,
        )

    def sections(self):
        """The bound fields, grouped as the form shows them (one fieldset each)."""
        return [(section, [self[name] for name in section.fields]) for section in SECTIONS]

    def answers(self):
        return {name: self.cleaned_data.get(name) for name in ANSWER_FIELDS}


class MedicationForm(forms.ModelForm):
    class Meta:
        model = IntakeMedication
        fields = MEDICATION_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for flag in IntakeMedication.CLASS_FLAGS:
            self.fields[flag].required = False


MedicationFormSet = forms.formset_factory(MedicationForm, extra=2, can_delete=True, max_num=40, validate_max=True)


def medications_from(formset):
    """The medicine list the formset describes, without deleted or empty rows."""
    items = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE") or not data.get("name"):
            continue
        items.append({name: data.get(name) for name in MEDICATION_FIELDS})
    return items


def medication_initial(intake):
    if intake is None:
        return []
    return [{name: getattr(medication, name) for name in MEDICATION_FIELDS} for medication in intake.medications.all()]

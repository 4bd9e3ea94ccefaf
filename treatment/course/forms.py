"""Forms of the course of care: the prescriber's evaluation and dose plan, and scheduling a session."""

from django import forms

from assessments.models import Evaluation, EvaluationFlagReview
from treatment.course.models import DosePlan, FollowUp


class EvaluationForm(forms.ModelForm):
    """The evaluation, and for each screening flag of the intake: confirmed or dismissed, with a reason."""

    class Meta:
        model = Evaluation
        fields = list(Evaluation.CONTENT_FIELDS)
        widgets = {
            "psychiatric_assessment": forms.Textarea(attrs={"rows": 4}),
            "medical_assessment": forms.Textarea(attrs={"rows": 4}),
            "diagnosis": forms.Textarea(attrs={"rows": 2}),
            "rationale": forms.Textarea(attrs={"rows": 3}),
            "decision": forms.RadioSelect,
        }

    def __init__(self, *args, flags=(), reviews=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.flags = list(flags)
        self.fields["decision"].choices = Evaluation.Decision.choices
        self.fields["decision"].required = False
        reviews = reviews or {}
        for flag in self.flags:
            review = reviews.get(flag.pk)
            self.fields[f"flag_{flag.pk}_outcome"] = forms.ChoiceField(
                label=f"{flag.get_severity_display()}: {flag.reason}",
                choices=EvaluationFlagReview.Outcome.choices,
                widget=forms.RadioSelect,
                required=False,
                initial=review.outcome if review else None,
            )
            self.fields[f"flag_{flag.pk}_reason"] = forms.CharField(
                label="Reason (required when dismissed)",
                required=False,
                max_length=2000,
                initial=review.reason if review else "",
            )

    def content(self):
        return {name: self.cleaned_data.get(name) for name in Evaluation.CONTENT_FIELDS}

    def flag_reviews(self):
        reviews = []
        for flag in self.flags:
            outcome = self.cleaned_data.get(f"flag_{flag.pk}_outcome")
            if outcome:
                reason = self.cleaned_data.get(f"flag_{flag.pk}_reason", "")
                reviews.append({"flag": flag.pk, "outcome": outcome, "reason": reason})
        return reviews

    def flag_rows(self):
        """(flag, outcome field, reason field) for the template."""
        return [(flag, self[f"flag_{flag.pk}_outcome"], self[f"flag_{flag.pk}_reason"]) for flag in self.flags]

    def main_fields(self):
        return [self[name] for name in Evaluation.CONTENT_FIELDS]


class AddendumForm(forms.Form):
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class DosePlanForm(forms.ModelForm):
    class Meta:
        model = DosePlan
        fields = list(DosePlan.CONTENT_FIELDS)
        widgets = {
            "instructions_patient": forms.Textarea(attrs={"rows": 3}),
            "instructions_therapist": forms.Textarea(attrs={"rows": 3}),
            "benzodiazepine_hold": forms.Textarea(attrs={"rows": 2}),
            "start_at": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_at"].choices = DosePlan.Start.choices
        self.fields["booster_count"].required = False

    def content(self):
        data = {name: self.cleaned_data.get(name) for name in DosePlan.CONTENT_FIELDS}
        data["booster_count"] = data["booster_count"] or 0
        return data


class FollowUpForm(forms.ModelForm):
    """The prescriber's follow-up note and decision. `due_on` reschedules the visit."""

    class Meta:
        model = FollowUp
        fields = ["due_on", *FollowUp.CONTENT_FIELDS]
        widgets = {
            "due_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "symptoms": forms.Textarea(attrs={"rows": 4}),
            "sessions_review": forms.Textarea(attrs={"rows": 3}),
            "side_effects": forms.Textarea(attrs={"rows": 3}),
            "therapist_note": forms.Textarea(attrs={"rows": 2}),
            "decision": forms.RadioSelect,
            "next_follow_up_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "rationale": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "additional_doses": "Only with “authorize more doses”: signing creates and signs a new dose plan "
            "version authorizing this many more (from the draft version if one is written).",
            "next_follow_up_on": "Every decision but a discharge schedules the next visit.",
            "decision": "Adjusting the dose signs the draft dose plan version with this note: write it first.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = FollowUp.Decision.choices
        self.fields["decision"].required = False

    def content(self):
        data = {name: self.cleaned_data.get(name) for name in FollowUp.CONTENT_FIELDS}
        if "due_on" in self.changed_data:
            data["due_on"] = self.cleaned_data.get("due_on")
        return data

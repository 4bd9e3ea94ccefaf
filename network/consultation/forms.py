from django import forms


class PresentationForm(forms.Form):
    """A case to present: a patient of the presenter's own care team (never shown to the group), and what
    the group will read."""

    patient = forms.ModelChoiceField(queryset=None, help_text="Only you see this choice; the group never does.")
    meeting = forms.ModelChoiceField(queryset=None, required=False, help_text="The meeting it is for (optional).")
    title = forms.CharField(max_length=200, help_text="No names or dates.")
    summary = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="In your own words: no names, e-mail, dates or text pasted from the record (“week 3”, not a date).",
    )
    include_scores = forms.BooleanField(required=False, initial=True, label="Include scores by week since baseline")
    include_dose_plan = forms.BooleanField(required=False, initial=True, label="Include the dose plan's numbers")

    def __init__(self, *args, patients, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients
        self.fields["meeting"].queryset = meetings


class AttendanceForm(forms.Form):
    attendees = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = members


class GroupForm(forms.Form):
    name = forms.CharField(max_length=200)
    facilitator = forms.ModelChoiceField(queryset=None)
    members = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = clinicians
        self.fields["members"].queryset = clinicians


class ScheduleForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="First meeting (local time)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    time_zone = forms.CharField(max_length=64, initial="America/Los_Angeles")
    video_link = forms.URLField(max_length=500, assume_scheme="https")
    ce_hours = forms.DecimalField(
        label="CE hours per meeting", max_digits=4, decimal_places=2, min_value=0, max_value=8
    )
    duration_minutes = forms.IntegerField(min_value=15, max_value=480, initial=60)
    count = forms.IntegerField(label="How many meetings", min_value=1, max_value=52, initial=1)
    every_weeks = forms.IntegerField(label="Every how many weeks", min_value=1, max_value=8, initial=2)

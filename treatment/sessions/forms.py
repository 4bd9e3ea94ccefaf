"""Forms of the session pages. Times are typed in the patient's time zone: build the forms inside
`timezone.override(patient.time_zone)` so they are read in it."""

from django import forms

from treatment.sessions.models import ChecklistConfirmation, TherapySession, VitalsReading

LOCAL_TIME = {
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
}


def local_time(label, required=True, help_text=""):
    return forms.DateTimeField(label=label, required=required, help_text=help_text, **LOCAL_TIME)


def reason_field(label="Reason"):
    return forms.CharField(label=label, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SessionScheduleForm(forms.Form):
    kind = forms.ChoiceField(choices=TherapySession.Kind.choices, widget=forms.RadioSelect)
    scheduled_at = local_time("Date and time")
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        required=False,
        min_value=15,
        max_value=480,
        help_text="Leave empty for the usual length: 3 hours for dosing, 1 hour otherwise.",
    )
    modality = forms.ChoiceField(
        choices=TherapySession.Modality.choices,
        initial=TherapySession.Modality.IN_PERSON,
        required=False,
        widget=forms.RadioSelect,
    )
    location = forms.CharField(label="Location (in person)", max_length=300, required=False)
    video_link = forms.URLField(label="Video link (remote)", max_length=500, required=False, assume_scheme="https")
    chaperone_name = forms.CharField(
        label="Chaperone's name (remote dosing)",
        max_length=200,
        required=False,
        help_text="Leave empty to use the chaperone on the patient's profile.",
    )
    chaperone_phone = forms.CharField(label="Chaperone's phone", max_length=30, required=False)
    reason = forms.CharField(
        label="Late entry: why it is recorded after the fact",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for a session that started more than 15 minutes ago; it is marked late on the chart.",
    )

    def details(self):
        data = self.cleaned_data
        chaperone = {"name": data["chaperone_name"], "phone": data["chaperone_phone"]}
        return {
            "kind": data["kind"],
            "scheduled_at": data["scheduled_at"],
            "duration_minutes": data["duration_minutes"],
            "modality": data["modality"] or TherapySession.Modality.IN_PERSON,
            "location": data["location"],
            "video_link": data["video_link"],
            "chaperone": {k: v for k, v in chaperone.items() if v} or None,
            "reason": data["reason"],
        }


class RescheduleForm(forms.Form):
    scheduled_at = local_time("New date and time")
    reason = reason_field()
    late_entry = forms.BooleanField(
        label="Late entry: the new time is in the past and this records what happened", required=False
    )


class ReasonForm(forms.Form):
    reason = reason_field()


class ChecklistForm(forms.Form):
    items = forms.MultipleChoiceField(label="Confirm", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(item, ChecklistConfirmation.Item(item).label) for item in items]


class VitalsForm(forms.ModelForm):
    taken_at = local_time("Taken at", required=False, help_text="Leave empty for now.")

    class Meta:
        model = VitalsReading
        fields = ["phase", "systolic", "diastolic", "pulse", "spo2", "taken_by", "taken_at"]
        labels = {"systolic": "Systolic (mmHg)", "diastolic": "Diastolic (mmHg)", "pulse": "Pulse (beats/min)"}
        widgets = {"phase": forms.RadioSelect, "taken_by": forms.RadioSelect}


class DoseForm(forms.Form):
    dose_mg = forms.DecimalField(label="Dose taken (mg)", max_digits=5, decimal_places=1, min_value=1, max_value=1000)
    taken_at = local_time("Taken at", required=False, help_text="Leave empty for now.")


class CheckInForm(forms.Form):
    patient_ok = forms.BooleanField(label="The chaperone sees the patient safe and comfortable", required=False)
    remark = forms.CharField(label="Remark", max_length=300, required=False)
    checked_at = local_time("Checked at", required=False, help_text="Leave empty for now.")


class EndForm(forms.Form):
    alert_and_oriented = forms.BooleanField(label="Alert and oriented", required=False)
    vitals_near_baseline = forms.BooleanField(label="Vitals back near baseline", required=False)
    safe_transport = forms.BooleanField(
        label="Leaving with safe transport (or staying home with the chaperone)", required=False
    )
    ended_at = local_time("Session ended at", required=False, help_text="Leave empty for now.")

    def criteria(self):
        return {
            name: self.cleaned_data[name] for name in ("alert_and_oriented", "vitals_near_baseline", "safe_transport")
        }

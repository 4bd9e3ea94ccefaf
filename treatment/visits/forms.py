import datetime
from zoneinfo import ZoneInfo

from django import forms

from .models import DateHours, Schedule, TimeOff, Visit, WeeklyHours


class BookForm(forms.Form):
    """One of the open times (their UTC ISO form is the choice's value) and how the patient will be seen."""

    starts_at = forms.ChoiceField(label="Time", widget=forms.RadioSelect)
    encounter = forms.ChoiceField(choices=Visit.Encounter.choices, initial=Visit.Encounter.VIDEO, label="How")

    def __init__(self, *args, slots=(), time_zone="UTC", **kwargs):
        super().__init__(*args, **kwargs)
        zone = ZoneInfo(time_zone)
        self.fields["starts_at"].choices = [
            (slot.isoformat(), f"{slot.astimezone(zone):%a %b %-d, %-I:%M %p}") for slot in slots
        ]

    def clean_starts_at(self):
        return datetime.datetime.fromisoformat(self.cleaned_data["starts_at"])


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = ["time_zone", "evaluation_minutes", "follow_up_minutes", "location", "video_link"]


TIME = forms.TimeInput(attrs={"type": "time"})


class WeeklyHoursForm(forms.ModelForm):
    class Meta:
        model = WeeklyHours
        fields = ["weekday", "start_time", "end_time"]
        widgets = {"start_time": TIME, "end_time": TIME}


class DateHoursForm(forms.ModelForm):
    class Meta:
        model = DateHours
        fields = ["on", "start_time", "end_time", "note"]
        widgets = {"on": forms.DateInput(attrs={"type": "date"}), "start_time": TIME, "end_time": TIME}
        help_texts = {"start_time": "Leave both times empty for a day off."}


class TimeOffForm(forms.ModelForm):
    """Typed in the clinician's own zone (the view sets it as the current time zone)."""

    class Meta:
        model = TimeOff
        fields = ["starts_at", "ends_at", "note"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

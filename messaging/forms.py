from django import forms

from .models import Message


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=Message.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write a message."},
    )
    urgent = forms.BooleanField(
        label="Urgent: each recipient must acknowledge it",
        required=False,
    )
    for_clinician = forms.ChoiceField(label="For", required=False)

    def __init__(self, *args, team=(), allow_urgent=False, choose_recipient=False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not allow_urgent:
            del self.fields["urgent"]
        if choose_recipient:
            choices = [("", "Anyone on my care team")]
            seen = set()
            for member in team:
                if member.clinician_id not in seen:
                    seen.add(member.clinician_id)
                    choices.append((str(member.clinician_id), f"{member.clinician} ({member.get_role_display()})"))
            self.fields["for_clinician"].choices = choices
            self._team = {str(member.clinician_id): member.clinician for member in team}
        else:
            del self.fields["for_clinician"]

    def clean_for_clinician(self):
        value = self.cleaned_data.get("for_clinician")
        return self._team.get(value) if value else None


class ShareNoteForm(forms.Form):
    note = forms.CharField(label="Add a note (optional)", required=False, max_length=2000)

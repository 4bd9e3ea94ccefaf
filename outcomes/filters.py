"""The outcomes filters, read from the query string (period, practice, clinician, referral reason) and validated:
a bad value is a 400 naming it, never a 500 and never a silently wider report."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone

from kapcare import access
from kapcare.accounts.models import Organization, User
from patients.models import Referral

MAX_PERIOD_DAYS = 3660  # ten years: the longest a period may span


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    practice: Organization | None = None
    clinician: User | None = None
    reason: str = ""

    def as_query(self) -> dict:
        """The filters as query-string values (ids and dates, never patient data): for links and the audit."""
        values = {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "practice": str(self.practice.pk) if self.practice else "",
            "clinician": str(self.clinician.pk) if self.clinician else "",
            "reason": self.reason,
        }
        return {key: value for key, value in values.items() if value}

    @property
    def started_from(self):
        return _day_start(self.start) if self.start else None

    @property
    def started_before(self):
        return _day_start(self.end + timedelta(days=1)) if self.end else None


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def practices_for(user):
    """The therapy practices a user may filter by: those referring to the user's medical group."""
    practices = Organization.objects.filter(kind=Organization.Kind.THERAPY_PRACTICE)
    organization = user.organization if user.is_authenticated else None
    if organization is None:
        return practices.none()
    group = organization.pk if organization.kind == Organization.Kind.MEDICAL_GROUP else organization.medical_group_id
    return practices.filter(medical_group_id=group).order_by("name")


class FilterForm(forms.Form):
    # The query-string names: `from` and `to` are Python keywords, so the two fields are renamed in `add_prefix`.
    start = forms.DateField(required=False, label="Courses started from")
    end = forms.DateField(required=False, label="to")
    practice = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False)
    clinician = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    reason = forms.ChoiceField(choices=[("", "Any referral reason"), *Referral.Reason.choices], required=False)

    PARAMS = ("from", "to", "practice", "clinician", "reason")
    NAMES = {"start": "from", "end": "to"}

    def __init__(self, user, query):
        unknown = sorted(set(query) - set(self.PARAMS))
        super().__init__({param: query.get(param, "") for param in self.PARAMS})
        self.unknown = unknown
        self.fields["practice"].queryset = practices_for(user)
        self.fields["clinician"].queryset = access.visible_clinicians(user).order_by("last_name", "first_name")
        self.fields["clinician"].label_from_instance = lambda clinician: clinician.get_full_name() or clinician.email

    def add_prefix(self, field_name):
        return self.NAMES.get(field_name, field_name)

    def clean(self):
        cleaned = super().clean()
        for name in self.unknown:
            self.add_error(None, f"Unknown filter “{name[:40]}”: use from, to, practice, clinician or reason.")
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end of the period is before its start.")
        elif start and end and (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("end", "Choose a period of at most ten years.")
        return cleaned

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            start=data["start"],
            end=data["end"],
            practice=data["practice"],
            clinician=data["clinician"],
            reason=data["reason"],
        )

    def error_messages(self) -> list[str]:
        messages = []
        for field, errors in self.errors.items():
            name = self.NAMES.get(field, field) if field != "__all__" else ""
            messages += [f"{name}: {error}" if name else error for error in errors]
        return messages


def parse(user, query) -> tuple[Filters | None, list[str]]:
    """(filters, []) for valid query parameters, or (None, the errors) for bad ones."""
    form = FilterForm(user, query)
    if not form.is_valid():
        return None, form.error_messages()
    return form.filters(), []

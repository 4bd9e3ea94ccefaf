"""The dashboards' patient list form: search, filters, sorting and the page. Filters, sorting and the page are
query parameters, so a list can be bookmarked and shared (ids and codes only); the search term is POSTed and
stands in the URL as an opaque key (messaging.dashboards.search), never as what was typed. A bad value is a
400 with the field's message, never a guess."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kapcare import access
from kapcare.access import Permission
from kapcare.us_states import USState
from patients.models import Stage
from patients.selectors import PATIENT_LIST_SORTS, PatientListQuery


class _RawCheckbox(forms.CheckboxInput):
    def value_from_datadict(self, data, files, name):
        return data.get(name)  # the text as sent, for Flag to judge

    def render(self, name, value, attrs=None, renderer=None):
        """The same <input> as CheckboxInput's template, written in Python (see QuickSelect)."""
        attrs = self.build_attrs(self.attrs, attrs)
        if self.check_test(value):
            attrs["checked"] = True
        if self.format_value(value) is not None:
            attrs["value"] = self.format_value(value)
        return format_html('<input type="checkbox" name="{}"{}>', name, flatatt(attrs))


class Flag(forms.Field):
    """A checkbox: absent means no, "on" (what a browser sends) or "1" means yes, anything else is an error."""

    widget = _RawCheckbox

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return False
        if value in ("on", "1"):
            return True
        raise forms.ValidationError("Tick the box or leave it out (on or 1).", code="invalid")


class QuickSelect(forms.Select):
    """The same <select> as forms.Select, written in Python: the template widget renders an include per option,
    and the list's four boxes hold about 80 options on every dashboard."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, mark_safe(" selected") if str(v) in chosen else "", label) for v, label in self.choices),
        )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, options)


class PatientListForm(forms.Form):
    q = forms.CharField(label="Search by name or e-mail", max_length=100, required=False)
    stage = forms.ChoiceField(
        label="Stage", choices=[("", "Any stage"), *Stage.choices], required=False, widget=QuickSelect
    )
    state = forms.ChoiceField(
        label="US state", choices=[("", "Any state"), *USState.choices], required=False, widget=QuickSelect
    )
    clinician = forms.ChoiceField(label="Clinician on the care team", required=False, widget=QuickSelect)
    alert = Flag(label="An alert waits for me")
    overdue = Flag(label="Follow-up overdue")
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[(key, label) for key, (label, _order) in PATIENT_LIST_SORTS.items()],
        required=False,
        widget=QuickSelect,
    )
    page = forms.IntegerField(label="Page", min_value=1, max_value=1_000_000, required=False)

    def __init__(self, data, *, user, clinicians):
        """`clinicians`: the clinician filter's choices, (id, label) pairs from clinician_choices."""
        super().__init__(data, label_suffix="")
        self.fields["clinician"].choices = [("", "Anyone"), *clinicians]
        self.shows_follow_ups = access.can(user, Permission.VIEW_FOLLOW_UP)

    def clean_overdue(self):
        if self.cleaned_data["overdue"] and not self.shows_follow_ups:
            raise forms.ValidationError(access.RULES[Permission.VIEW_FOLLOW_UP].reason, code="not_allowed")
        return self.cleaned_data["overdue"]

    def choices(self):
        """The drop-down boxes, in the order the form shows them."""
        return [self[name] for name in ("stage", "state", "clinician", "sort")]

    def list_query(self) -> PatientListQuery:
        data = self.cleaned_data
        return PatientListQuery(
            search=data["q"],
            stage=data["stage"],
            state=data["state"],
            clinician_id=data["clinician"] or None,
            alert_open_for_me=data["alert"],
            follow_up_overdue=data["overdue"],
            sort=data["sort"] or "name",
        )

    @property
    def filtered(self):
        """Whether anything narrows the list (the heading then says "match")."""
        return any(value for name, value in self.cleaned_data.items() if name not in ("sort", "page"))

    def error_lines(self):
        """Each wrong parameter with its message, in words for the 400 page."""
        return [f"{self.fields[name].label}: {' '.join(errors)}" for name, errors in self.errors.items()]


def clinician_choices(clinicians):
    """(id, label) for each clinician the patient list can filter by (patients.selectors.care_team_clinicians)."""
    return [(str(clinician.pk), _clinician_label(clinician)) for clinician in clinicians]


def _clinician_label(clinician):
    return f"{clinician.get_full_name() or clinician.email} ({clinician.get_role_display().lower()})"

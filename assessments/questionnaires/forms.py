"""The questionnaire form of the portal: one page per step of the instrument's skip logic, with no JavaScript.

Each page asks the items that can be asked given the answers so far (assessments.instruments.Instrument
.next_items) and carries the earlier answers in hidden fields. The answers are re-derived from the whole POST
on every request, so a skipped item can never be answered by editing the page: the server walks the skip
logic again, and the submit service checks it once more. An instrument without skip logic is one page.
"""

from dataclasses import dataclass

from django import forms


def _value(raw, allowed):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value in allowed else None


@dataclass
class Progress:
    known: dict  # {item number: value} accepted so far (None: skipped)
    step: list  # the items to ask on this page
    difficulty: int | None
    ask_difficulty: bool  # the unscored difficulty question goes on this page

    @property
    def complete(self):
        return not self.step and not self.ask_difficulty


def progress(instrument, data) -> Progress:
    """How far `data` (a POST, or {} for the first page) gets through the instrument."""
    data = data or {}
    known = {}
    while True:
        step = instrument.next_items(known)
        if not step:
            break
        values = {item.number: _value(data.get(f"item_{item.number}"), instrument.values) for item in step}
        if any(value is None for value in values.values()):
            break
        known.update(values)
    if not step:  # every item that applies is answered: the others were skipped
        known = {item.number: known.get(item.number) for item in instrument.items}
    functional = instrument.functional_item
    difficulty = _value(data.get("difficulty"), range(len(functional.options))) if functional else None
    last = instrument.items[-1]
    ask = bool(functional) and difficulty is None and (not step or last in step)
    return Progress(known=known, step=step, difficulty=difficulty, ask_difficulty=ask)


class QuestionnaireForm(forms.Form):
    """One page: radios for this step's items (every one required), the difficulty question where it belongs,
    and the earlier answers as hidden fields."""

    def __init__(self, instrument, state: Progress, data=None):
        super().__init__(data)
        self.instrument = instrument
        choices = [(option.value, option.label) for option in instrument.options]
        for number, value in state.known.items():
            if value is not None and all(item.number != number for item in state.step):
                self.fields[f"item_{number}"] = forms.IntegerField(widget=forms.HiddenInput, initial=value)
        for item in state.step:
            help_parts = [part for part in (item.time_frame and f"Time frame: {item.time_frame}.", item.help) if part]
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.label}. {item.text}",
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                help_text=" ".join(help_parts),
                error_messages={"required": f"Answer question {item.label}."},
            )
        functional = instrument.functional_item
        if functional and state.ask_difficulty:
            self.fields["difficulty"] = forms.TypedChoiceField(
                label=functional.text,
                choices=[(option.value, option.label) for option in functional.options],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Answer the last question."},
            )
        elif functional and state.difficulty is not None:
            self.fields["difficulty"] = forms.IntegerField(widget=forms.HiddenInput, initial=state.difficulty)
        self.fields["shown"] = forms.CharField(
            widget=forms.HiddenInput, required=False, initial=",".join(str(item.number) for item in state.step)
        )


def form_for(instrument, data=None):
    """(state, form): the page to show for this POST (or the first page). The form is bound, and so shows
    errors, only when the POST answered this very page."""
    state = progress(instrument, data)
    shown_now = ",".join(str(item.number) for item in state.step)
    answered_this_page = bool(data) and data.get("shown", "") == shown_now and (state.step or state.ask_difficulty)
    return state, QuestionnaireForm(instrument, state, data if answered_this_page else None)

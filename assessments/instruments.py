"""Questionnaire instruments as data (assessments/instruments.json): items, options, skip logic, scoring,
bands, outcomes and alert rules.

Nothing here knows a particular instrument: a new one needs an entry in the JSON file, not code.

- Skip logic: an item with `shows_if: {"item": n, "equals": v}` is asked only when item n was answered v;
  otherwise it is skipped and its answer is null (None). Items are numbered 1.. in the order asked; `label`
  is what a person reads (e.g. "6a" for a follow-up question).
- Scoring: the sum of the answered items' values (the default), or `method: "risk_level"`: the rank of the
  highest level whose condition holds (the C-SSRS screener has no total score; its total_score is the rank).
  The severity is the label of the band the total falls in (empty when the instrument has none, e.g. PCL-5).
- Outcomes (`scoring.outcomes`): `response_fall_percent` (a fall of at least that percentage from the course
  baseline) and `remission_below` (a total below it).
- Alert rules:
  - `item_above`: the value of item `item` is above `above`;
  - `total_rise`: the total rose by `by` or more from the patient's previous response to the same instrument;
  - `total_at_least`: the total is `at_least` or more;
  - `severity_in`: the severity is one of `severities`.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("instruments.json")
SUM, RISK_LEVEL = "sum", "risk_level"


@dataclass(frozen=True)
class Condition:
    item: int
    equals: int

    def holds(self, known):
        """`known`: {item number: value or None}."""
        return known.get(self.item) == self.equals


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    label: str = ""
    help: str = ""
    time_frame: str = ""
    shows_if: Condition | None = None

    def __post_init__(self):
        if not self.label:
            object.__setattr__(self, "label", str(self.number))


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Level:
    rank: int
    label: str
    when_any: tuple[Condition, ...]


@dataclass(frozen=True)
class FunctionalItem:
    """The unscored difficulty question some instruments end with; its options are valued 0.."""

    text: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class AlertRule:
    kind: str  # a patients.models.SafetyAlert.Kind value
    type: str  # item_above, total_rise, total_at_least or severity_in
    severity: str
    reason: str
    item: int | None = None
    above: int | None = None
    by: int | None = None
    at_least: int | None = None
    severities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    short_name: str
    stem: str
    items: tuple[Item, ...]
    options: tuple[Option, ...]
    bands: tuple[Band, ...]
    alert_rules: tuple[AlertRule, ...]
    min_score: int
    max_score: int
    method: str = SUM
    levels: tuple[Level, ...] = ()
    functional_item: FunctionalItem | None = None
    response_fall_percent: int | None = None
    remission_below: int | None = None
    rated_by: str = "patient"  # "clinician": the prescriber rates it (CGI-S, CGI-I), not the patient

    @property
    def clinician_rated(self):
        return self.rated_by == "clinician"

    @property
    def values(self):
        return tuple(option.value for option in self.options)

    @property
    def has_skip_logic(self):
        return any(item.shows_if for item in self.items)

    def label_of(self, number):
        return next((item.label for item in self.items if item.number == number), str(number))

    def option_label(self, value):
        return next((option.label for option in self.options if option.value == value), "")

    def _skip_reason(self, item):
        condition = item.shows_if
        return (
            f"Item {item.label} is asked only when item {self.label_of(condition.item)} is "
            f"“{self.option_label(condition.equals)}”"
        )

    def errors(self, answers):
        """A message per wrong answer, naming the item; empty when the answers are complete and valid.
        A skipped item (its `shows_if` does not hold) must be null; every asked item needs a value."""
        if not isinstance(answers, list | tuple):
            return [f"Send a list of {len(self.items)} answers, one per item."]
        if len(answers) != len(self.items):
            return [f"{self.name} has {len(self.items)} items: send {len(self.items)} answers, not {len(answers)}."]
        allowed = ", ".join(str(value) for value in self.values)
        known, errors = {}, []
        for item, answer in zip(self.items, answers, strict=True):
            if item.shows_if and not item.shows_if.holds(known):
                known[item.number] = None
                if answer is not None:
                    errors.append(f"{self._skip_reason(item)}: send null for it.")
                continue
            valid = not isinstance(answer, bool) and isinstance(answer, int) and answer in self.values
            if not valid:
                errors.append(
                    f"Item {item.label}: answer it (one of {allowed})."
                    if answer is None
                    else f"Item {item.label}: {answer!r} is not one of {allowed}."
                )
            known[item.number] = answer if valid else object()  # an invalid answer satisfies no condition
        return errors

    def functional_errors(self, value, *, required=False):
        """A message when the unscored difficulty answer is wrong (None is fine unless `required`)."""
        if self.functional_item is None:
            return [] if value is None else [f"{self.name} has no difficulty question: leave it out."]
        if value is None:
            return ["Answer the difficulty question."] if required else []
        top = len(self.functional_item.options) - 1
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            return [f"The difficulty answer {value!r} is not one of 0 to {top}."]
        return []

    def next_items(self, known):
        """The items to ask next, given the answers so far ({number: value}): in order, skipping those whose
        condition does not hold, and stopping at one whose condition rests on an unanswered item. Empty when
        every item that applies is answered."""
        known = dict(known)
        step = []
        for item in self.items:
            if item.number in known:
                continue
            if item.shows_if:
                if item.shows_if.item not in known:
                    break
                if not item.shows_if.holds(known):
                    known[item.number] = None
                    continue
            step.append(item)
        return step

    def complete_answers(self, known):
        """The answers in item order, None for the items skipped."""
        return [known.get(item.number) for item in self.items]

    def score(self, answers):
        if self.method == RISK_LEVEL:
            known = {item.number: answer for item, answer in zip(self.items, answers, strict=True)}
            for level in sorted(self.levels, key=lambda level: -level.rank):
                if not level.when_any or any(condition.holds(known) for condition in level.when_any):
                    return level.rank
            return 0
        return sum(answer for answer in answers if answer is not None)

    def severity(self, total):
        return next((band.label for band in self.bands if band.low <= total <= band.high), "")

    def answer(self, answers, number):
        return answers[[item.number for item in self.items].index(number)]

    def is_response(self, baseline, total):
        """A fall of at least `response_fall_percent` from the course baseline; None when not defined."""
        if self.response_fall_percent is None or baseline is None or baseline <= 0:
            return None
        return (baseline - total) * 100 >= self.response_fall_percent * baseline

    def is_remission(self, total):
        return None if self.remission_below is None else total < self.remission_below


def _condition(data):
    return Condition(item=data["item"], equals=data["equals"]) if data else None


def _item(data):
    return Item(
        number=data["number"],
        text=data["text"],
        label=data.get("label", ""),
        help=data.get("help", ""),
        time_frame=data.get("time_frame", ""),
        shows_if=_condition(data.get("shows_if")),
    )


def _functional_item(data):
    if not data or not data.get("text"):
        return None
    return FunctionalItem(
        text=data["text"], options=tuple(Option(value, label) for value, label in enumerate(data["options"]))
    )


def _alert_rule(data):
    return AlertRule(**{**data, "severities": tuple(data.get("severities", ()))})


def _instrument(data):
    scoring = data["scoring"]
    outcomes = scoring.get("outcomes", {})
    return Instrument(
        code=data["id"],
        name=data["name"],
        short_name=data.get("short_name", data["name"]),
        stem=data.get("stem", ""),
        items=tuple(_item(item) for item in data["items"]),
        options=tuple(Option(value=option["value"], label=option["label"]) for option in data["response_options"]),
        bands=tuple(Band(band["min"], band["max"], band["label"]) for band in scoring.get("bands", [])),
        alert_rules=tuple(_alert_rule(rule) for rule in data.get("alert_rules", [])),
        min_score=scoring.get("min", 0),
        max_score=scoring.get("max", 0),
        method=RISK_LEVEL if scoring.get("method") == RISK_LEVEL else SUM,
        levels=tuple(
            Level(level["rank"], level["label"], tuple(_condition(c) for c in level["when_any"]))
            for level in scoring.get("levels", [])
        ),
        functional_item=_functional_item(data.get("functional_item")),
        response_fall_percent=outcomes.get("response_fall_percent"),
        remission_below=outcomes.get("remission_below"),
        rated_by=data.get("rated_by", "patient"),
    )


@cache
def instruments():
    """Every instrument by code, in the file's order."""
    with DATA_FILE.open(encoding="utf-8") as file:
        data = json.load(file)
    return {entry["id"]: _instrument(entry) for entry in data["instruments"]}


def get(code):
    """The instrument with this code, or None."""
    return instruments().get(code)


def choices():
    return [(code, instrument.name) for code, instrument in instruments().items()]

"""Questionnaire instruments as data (assessments/instruments.json): items, options, scoring and alert rules.

Nothing here knows a particular instrument: a new one needs an entry in the JSON file, not code. Scoring is
the sum of the item values; the severity is the label of the band the total falls in (empty when the
instrument has no bands, e.g. PCL-5). Alert rules are of two types:
- `item_above`: the value of item `item` is above `above`;
- `total_rise`: the total rose by `by` or more from the patient's previous response to the same instrument.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("instruments.json")


@dataclass(frozen=True)
class Item:
    number: int
    text: str


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
class AlertRule:
    kind: str  # a patients.models.SafetyAlert.Kind value
    type: str  # "item_above" or "total_rise"
    severity: str
    reason: str
    item: int | None = None
    above: int | None = None
    by: int | None = None


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    stem: str
    items: tuple[Item, ...]
    options: tuple[Option, ...]
    bands: tuple[Band, ...]
    alert_rules: tuple[AlertRule, ...]
    min_score: int
    max_score: int

    @property
    def values(self):
        return tuple(option.value for option in self.options)

    def errors(self, answers):
        """A message per wrong answer, naming the item; empty when the answers are complete and valid."""
        if not isinstance(answers, list | tuple):
            return [f"Send a list of {len(self.items)} answers, one per item."]
        if len(answers) != len(self.items):
            return [f"{self.name} has {len(self.items)} items: send {len(self.items)} answers, not {len(answers)}."]
        allowed = ", ".join(str(value) for value in self.values)
        return [
            f"Item {item.number}: {answer!r} is not one of {allowed}."
            for item, answer in zip(self.items, answers, strict=True)
            if isinstance(answer, bool) or not isinstance(answer, int) or answer not in self.values
        ]

    def score(self, answers):
        return sum(answers)

    def severity(self, total):
        return next((band.label for band in self.bands if band.low <= total <= band.high), "")

    def answer(self, answers, number):
        return answers[[item.number for item in self.items].index(number)]


def _instrument(data):
    scoring = data["scoring"]
    return Instrument(
        code=data["id"],
        name=data["name"],
        stem=data.get("stem", ""),
        items=tuple(Item(number=item["number"], text=item["text"]) for item in data["items"]),
        options=tuple(Option(value=option["value"], label=option["label"]) for option in data["response_options"]),
        bands=tuple(Band(band["min"], band["max"], band["label"]) for band in scoring.get("bands", [])),
        alert_rules=tuple(AlertRule(**rule) for rule in data.get("alert_rules", [])),
        min_score=scoring.get("min", 0),
        max_score=scoring.get("max", 0),
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

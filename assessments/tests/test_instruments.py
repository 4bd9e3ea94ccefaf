"""Instruments as data (issue 6, point 1): every band edge of every instrument read from the data, the C-SSRS
screener's skip logic and risk levels, response and remission, and a new instrument that needs data only."""

import itertools
import json

import pytest

from assessments import instruments
from assessments.models import QuestionnaireResponse
from assessments.questionnaires import services as questionnaire_services
from patients.models import SafetyAlert

SCORED = [code for code, instrument in instruments.instruments().items() if instrument.method == instruments.SUM]


def answers_for(instrument, total):
    """Answers adding up to `total`, filled from the first item."""
    top, answers, left = max(instrument.values), [], total
    for _item in instrument.items:
        value = min(top, left)
        answers.append(value)
        left -= value
    assert left == 0
    return answers


def cssrs(q1=0, q2=0, q3=None, q4=None, q5=None, q6=0, q6a=None):
    return [q1, q2, q3, q4, q5, q6, q6a]


def test_the_four_instruments_load_from_the_data_file():
    loaded = instruments.instruments()
    assert list(loaded)[:4] == ["phq9", "gad7", "pcl5", "cssrs"]
    assert [len(loaded[code].items) for code in ("phq9", "gad7", "pcl5", "cssrs")] == [9, 7, 20, 7]
    assert loaded["cssrs"].values == (0, 1) and loaded["cssrs"].option_label(1) == "Yes"
    assert loaded["phq9"].functional_item.options[3].label == "Extremely difficult"
    assert loaded["gad7"].functional_item is None  # its wording is not verified in the brief: left out


@pytest.mark.parametrize("code", SCORED)
def test_every_band_edge_scores_from_the_data(code):
    instrument = instruments.get(code)
    for band in instrument.bands:
        for total in (band.low, band.high):
            answers = answers_for(instrument, total)
            assert instrument.errors(answers) == []
            assert instrument.score(answers) == total
            assert instrument.severity(total) == band.label
    assert instrument.score(answers_for(instrument, instrument.max_score)) == instrument.max_score


def test_the_bands_tile_the_whole_range_without_gaps():
    for instrument in instruments.instruments().values():
        if not instrument.bands:
            continue
        edges = [(band.low, band.high) for band in instrument.bands]
        assert edges[0][0] == instrument.min_score and edges[-1][1] == instrument.max_score, instrument.code
        assert all(previous[1] + 1 == current[0] for previous, current in itertools.pairwise(edges))


def test_phq9_and_gad7_labels_at_the_edges():
    phq9, gad7 = instruments.get("phq9"), instruments.get("gad7")
    assert [phq9.severity(t) for t in (0, 4, 5, 9, 10, 14, 15, 19, 20, 27)] == [
        "minimal or none",
        "minimal or none",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "moderately severe",
        "moderately severe",
        "severe",
        "severe",
    ]
    assert [gad7.severity(t) for t in (0, 4, 5, 9, 10, 14, 15, 21)] == [
        "minimal",
        "minimal",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "severe",
        "severe",
    ]


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        (cssrs(), "no risk reported"),
        (cssrs(q1=1), "low"),
        (cssrs(q2=1, q3=0, q4=0, q5=0), "low"),
        (cssrs(q2=1, q3=1, q4=0, q5=0), "moderate"),
        (cssrs(q6=1, q6a=0), "moderate"),  # behaviour more than 3 months ago
        (cssrs(q2=1, q3=0, q4=1, q5=0), "high"),
        (cssrs(q2=1, q3=0, q4=0, q5=1), "high"),
        (cssrs(q6=1, q6a=1), "high"),  # behaviour within the past 3 months
    ],
)
def test_cssrs_risk_level_is_the_highest_endorsed(answers, level):
    screener = instruments.get("cssrs")
    assert screener.errors(answers) == []
    assert screener.severity(screener.score(answers)) == level


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (cssrs(q2=0, q3=1), "Item 3 is asked only when item 2 is “Yes”: send null for it."),
        (cssrs(q2=0, q5=0), "Item 5 is asked only when item 2 is “Yes”: send null for it."),
        (cssrs(q2=1, q3=1, q4=None, q5=0), "Item 4: answer it (one of 0, 1)."),
        (cssrs(q6=0, q6a=1), "Item 6a is asked only when item 6 is “Yes”: send null for it."),
        (cssrs(q6=1, q6a=None), "Item 6a: answer it (one of 0, 1)."),
        (cssrs(q1=2), "Item 1: 2 is not one of 0, 1."),
        (cssrs(q1=None), "Item 1: answer it (one of 0, 1)."),
        ([0, 0, None, None, None, 0], "has 7 items: send 7 answers, not 6."),
    ],
)
def test_cssrs_skip_logic_is_enforced_naming_the_item(answers, message):
    assert message in " ".join(instruments.get("cssrs").errors(answers))


def test_cssrs_asks_in_steps_as_its_form_says():
    screener = instruments.get("cssrs")

    def numbers(known):
        return [item.label for item in screener.next_items(known)]

    assert numbers({}) == ["1", "2"]
    assert numbers({1: 1, 2: 1}) == ["3", "4", "5", "6"]
    assert numbers({1: 1, 2: 0}) == ["6"]  # no to 2: straight to 6
    assert numbers({1: 0, 2: 0, 6: 1}) == ["6a"]
    assert numbers({1: 0, 2: 0, 6: 0}) == []
    assert screener.complete_answers({1: 0, 2: 0, 6: 0}) == [0, 0, None, None, None, 0, None]
    assert instruments.get("phq9").next_items({}) == list(instruments.get("phq9").items)  # one page


@pytest.mark.parametrize(
    ("baseline", "total", "response"), [(20, 10, True), (20, 11, False), (19, 9, True), (19, 10, False), (0, 0, None)]
)
def test_response_is_a_fall_of_half_from_the_baseline(baseline, total, response):
    assert instruments.get("phq9").is_response(baseline, total) is response


def test_remission_is_a_phq9_below_5():
    phq9 = instruments.get("phq9")
    assert (phq9.is_remission(4), phq9.is_remission(5)) == (True, False)
    assert instruments.get("pcl5").is_remission(0) is None  # not defined for the PCL-5


NEW_INSTRUMENT = {
    "id": "who5",
    "name": "A made-up wellbeing index",
    "short_name": "WB-3",
    "stem": "Over the last two weeks:",
    "items": [
        {"number": 1, "text": "I have felt cheerful."},
        {"number": 2, "text": "I have felt calm."},
        {"number": 3, "text": "I woke up rested.", "shows_if": {"item": 2, "equals": 0}},
    ],
    "response_options": [{"label": "Never", "value": 0}, {"label": "Sometimes", "value": 1}],
    "scoring": {
        "min": 0,
        "max": 3,
        "bands": [{"min": 0, "max": 1, "label": "low"}, {"min": 2, "max": 3, "label": "ok"}],
    },
    "alert_rules": [
        {"kind": "cssrs_risk", "type": "total_at_least", "at_least": 2, "severity": "moderate", "reason": "Test."}
    ],
}


@pytest.fixture
def one_more_instrument(tmp_path, monkeypatch):
    data = json.loads(instruments.DATA_FILE.read_text(encoding="utf-8"))
    data["instruments"].append(NEW_INSTRUMENT)
    path = tmp_path / "instruments.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(instruments, "DATA_FILE", path)
    instruments.instruments.cache_clear()
    yield instruments.get("who5")
    instruments.instruments.cache_clear()


@pytest.mark.django_db
def test_a_new_instrument_needs_data_only(one_more_instrument, patient, patient_a):
    instrument = one_more_instrument
    assert [item.label for item in instrument.next_items({1: 1, 2: 1})] == []
    assert instrument.errors([1, 1, 1]) == ["Item 3 is asked only when item 2 is “Never”: send null for it."]

    response = questionnaire_services.questionnaire_submit(
        actor=patient, patient=patient_a, instrument="who5", answers=[1, 1, None]
    )

    assert (response.total_score, response.severity) == (2, "ok")
    assert QuestionnaireResponse.objects.get().instrument == "who5"
    assert SafetyAlert.objects.get().source_id == str(response.pk)

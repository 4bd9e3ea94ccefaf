"""Questionnaires (issue 6): instruments as data, scoring and bands, answers refused with the item named,
the safety alerts the instruments' rules raise, who may submit, and a list in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import instruments
from assessments.models import QuestionnaireResponse
from kapcare.audit.models import AuditEvent
from patients.models import SafetyAlert

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/"
# Queries of the list narrowed to one patient, whatever its length (measured; the page's audit rows are one
# INSERT, so the number must not grow with the page).
LIST_QUERIES = 10


def answers_for(code, total, *, last=0):
    """Answers adding up to `total`, filled from the first item; the last item is `last` unless the total
    needs it (above the other items' maximum)."""
    instrument = instruments.get(code)
    top = max(instrument.values)
    last = max(last, total - top * (len(instrument.items) - 1))
    answers, left = [], total - last
    for _item in instrument.items[:-1]:
        value = min(top, left)
        answers.append(value)
        left -= value
    return [*answers, last]


def submit(api, user, patient, code, answers):
    return api.as_user(user).post(
        URL, {"patient": str(patient.pk), "instrument": code, "answers": answers}, format="json"
    )


def band_edges(code):
    """(total, label) at both edges of every band, read from the data."""
    return [(total, band.label) for band in instruments.get(code).bands for total in (band.low, band.high)]


def test_instruments_come_from_data():
    assert {"phq9", "gad7", "pcl5"} <= set(instruments.instruments())
    phq9 = instruments.get("phq9")
    assert len(phq9.items) == 9 and phq9.values == (0, 1, 2, 3)
    assert len(instruments.get("gad7").items) == 7
    assert len(instruments.get("pcl5").items) == 20 and instruments.get("pcl5").values == (0, 1, 2, 3, 4)
    assert instruments.get("nope") is None


@pytest.mark.parametrize("code", ["phq9", "gad7"])
def test_scoring_and_bands_at_every_edge(api, patient, patient_a, code):
    edges = band_edges(code)
    assert edges[0][0] == 0 and edges[-1][0] == instruments.get(code).max_score
    for total, label in edges:
        response = submit(api, patient, patient_a, code, answers_for(code, total))
        assert response.status_code == 201, response.content
        assert (response.json()["total_score"], response.json()["severity"]) == (total, label)


def test_phq9_band_labels_at_edges():
    phq9 = instruments.get("phq9")
    assert [phq9.severity(t) for t in (4, 5, 9, 10, 14, 15, 19, 20)] == [
        "minimal or none",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "moderately severe",
        "moderately severe",
        "severe",
    ]
    gad7 = instruments.get("gad7")
    assert [gad7.severity(t) for t in (4, 5, 9, 10, 14, 15)] == [
        "minimal",
        "mild",
        "mild",
        "moderate",
        "moderate",
        "severe",
    ]


def test_the_response_carries_the_contract_fields(api, patient, patient_a):
    body = submit(api, patient, patient_a, "gad7", [1, 1, 1, 1, 1, 1, 1]).json()
    assert {"id", "patient", "instrument", "answers", "total_score", "severity", "submitted_at"} <= set(body)
    assert body["patient"] == str(patient_a.pk) and body["answers"] == [1] * 7
    detail = api.as_user(patient).get(f"{URL}{body['id']}/")
    assert detail.status_code == 200 and detail.json()["total_score"] == 7


@pytest.mark.parametrize(
    ("code", "answers", "field", "message"),
    [
        ("phq9", [0] * 8, "answers", "PHQ-9) has 9 items: send 9 answers, not 8."),
        ("phq9", [0] * 10, "answers", "send 9 answers, not 10."),
        ("phq9", [0] * 8 + [4], "answers", "Item 9: 4 is not one of 0, 1, 2, 3."),
        ("gad7", [0, -1, 0, 0, 0, 0, 0], "answers", "Item 2: -1 is not one of 0, 1, 2, 3."),
        ("gad7", [0, 0, "2", 0, 0, 0, 0], "answers", "Item 3: '2' is not one of 0, 1, 2, 3."),
        ("phq10", [0] * 9, "instrument", "Unknown instrument 'phq10'"),
    ],
)
def test_wrong_answers_are_refused_naming_the_item(api, patient, patient_a, code, answers, field, message):
    response = submit(api, patient, patient_a, code, answers)

    assert response.status_code == 400
    assert any(message in error for error in response.json()[field]), response.json()
    assert not QuestionnaireResponse.objects.exists()
    assert not SafetyAlert.objects.exists()


def test_item_9_above_0_raises_one_alert_to_both_clinicians(api, patient, patient_a, therapist_a, prescriber):
    response = submit(api, patient, patient_a, "phq9", answers_for("phq9", 3, last=1))

    assert response.status_code == 201
    alert = SafetyAlert.objects.get()
    assert alert.kind == SafetyAlert.Kind.PHQ9_ITEM9 and alert.patient == patient_a
    assert alert.source_id == response.json()["id"]
    assert {r.clinician for r in alert.recipients.all()} == {therapist_a, prescriber}


def test_item_9_at_0_raises_nothing(api, patient, patient_a):
    assert submit(api, patient, patient_a, "phq9", answers_for("phq9", 24)).status_code == 201
    assert not SafetyAlert.objects.exists()


@pytest.mark.parametrize(("rise", "alerts"), [(5, 1), (4, 0)])
def test_a_phq9_rise_of_5_raises_an_alert(api, patient, patient_a, rise, alerts):
    submit(api, patient, patient_a, "phq9", answers_for("phq9", 6))
    submit(api, patient, patient_a, "gad7", answers_for("gad7", 20))  # another instrument does not count
    response = submit(api, patient, patient_a, "phq9", answers_for("phq9", 6 + rise))

    assert response.status_code == 201
    assert SafetyAlert.objects.filter(kind=SafetyAlert.Kind.PHQ9_RISE).count() == alerts


def test_the_first_phq9_raises_no_rise(api, patient, patient_a):
    submit(api, patient, patient_a, "phq9", answers_for("phq9", 20))
    assert not SafetyAlert.objects.filter(kind=SafetyAlert.Kind.PHQ9_RISE).exists()


def test_the_patient_submits_their_own(api, patient, patient_a):
    response = submit(api, patient, patient_a, "gad7", answers_for("gad7", 9))

    assert response.status_code == 201
    stored = QuestionnaireResponse.objects.get()
    assert stored.entered_by == patient and stored.on_behalf is False and stored.total_score == 9
    assert AuditEvent.objects.filter(
        object_type="assessments.questionnaireresponse", object_id=str(stored.pk), action=AuditEvent.Action.CREATE
    ).exists()


def test_the_therapist_enters_one_on_the_patients_behalf(api, therapist_a, patient_a):
    response = submit(api, therapist_a, patient_a, "phq9", answers_for("phq9", 12))

    assert response.status_code == 201 and response.json()["on_behalf"] is True
    stored = QuestionnaireResponse.objects.get()
    assert stored.entered_by == therapist_a and stored.on_behalf is True and stored.patient == patient_a


def test_a_coordinator_is_refused(api, coordinator, patient_a):
    assert submit(api, coordinator, patient_a, "phq9", [0] * 9).status_code == 403
    assert api.as_user(coordinator).get(URL, {"patient": str(patient_a.pk)}).status_code == 403
    assert not QuestionnaireResponse.objects.exists()


def test_a_foreign_therapist_gets_404(api, therapist_b, patient, patient_a):
    assert submit(api, therapist_b, patient_a, "phq9", [0] * 9).status_code == 404
    own = submit(api, patient, patient_a, "phq9", [0] * 9).json()["id"]
    assert api.as_user(therapist_b).get(f"{URL}{own}/").status_code == 404
    assert api.as_user(therapist_b).get(URL).json()["results"] == []


def test_another_patient_gets_404(api, patient, other_patient, patient_a):
    assert submit(api, other_patient, patient_a, "phq9", [0] * 9).status_code == 404
    own = submit(api, patient, patient_a, "phq9", [0] * 9).json()["id"]
    assert api.as_user(other_patient).get(f"{URL}{own}/").status_code == 404
    assert QuestionnaireResponse.objects.count() == 1


def _make(patient, user, count):
    QuestionnaireResponse.objects.bulk_create(
        QuestionnaireResponse(
            patient=patient, instrument="gad7", answers=[1] * 7, total_score=7, severity="mild", entered_by=user
        )
        for _ in range(count)
    )


def _list_queries(api, user, patient):
    client = api.as_user(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, {"patient": str(patient.pk)})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


def test_the_list_takes_the_same_queries_for_1_and_20(api, therapist_a, patient, patient_a):
    _make(patient_a, patient, 1)
    one, shown = _list_queries(api, therapist_a, patient_a)
    assert shown == 1
    _make(patient_a, patient, 19)
    twenty, shown = _list_queries(api, therapist_a, patient_a)
    assert shown == 20
    assert one == twenty == LIST_QUERIES


def test_seed_demo_gives_taylor_an_improving_score_history(db):
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent

    responses = QuestionnaireResponse.objects.filter(patient__email="patient@demo.kapcare.test")
    for code in ("phq9", "gad7"):
        totals = list(responses.filter(instrument=code).order_by("submitted_at").values_list("total_score", flat=True))
        assert len(totals) >= 3 and totals == sorted(totals, reverse=True) and totals[0] >= 15
    assert not SafetyAlert.objects.filter(kind__startswith="phq9").exists()

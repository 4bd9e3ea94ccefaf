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
LIST_QUERIES = 7


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


# The C-SSRS screener over the API (answers in item order 1, 2, 3, 4, 5, 6, 6a; null for a skipped item).


@pytest.mark.parametrize(
    ("answers", "severity", "alert"),
    [
        ([0, 0, None, None, None, 0, None], "no risk reported", None),
        ([1, 1, 0, 0, 0, 0, None], "low", None),
        ([1, 1, 1, 0, 0, 0, None], "moderate", "high"),
        ([0, 0, None, None, None, 1, 0], "moderate", "high"),
        ([1, 1, 0, 1, 0, 0, None], "high", "urgent"),
        ([0, 0, None, None, None, 1, 1], "high", "urgent"),
    ],
)
def test_cssrs_is_accepted_and_a_moderate_or_high_screen_alerts_both_clinicians(
    api, patient, patient_a, therapist_a, prescriber, answers, severity, alert
):
    response = submit(api, patient, patient_a, "cssrs", answers)

    assert response.status_code == 201, response.content
    assert response.json()["severity"] == severity and response.json()["answers"] == answers
    alerts = SafetyAlert.objects.filter(kind=SafetyAlert.Kind.CSSRS_RISK)
    if alert is None:
        assert not alerts.exists()
    else:
        raised = alerts.get()
        assert raised.severity == alert and raised.source_id == response.json()["id"]
        assert {r.clinician for r in raised.recipients.all()} == {therapist_a, prescriber}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([0, 0, 1, None, None, 0, None], "Item 3 is asked only when item 2 is “Yes”: send null for it."),
        ([0, 1, None, 0, 0, 0, None], "Item 3: answer it (one of 0, 1)."),
        ([0, 0, None, None, None, 1, None], "Item 6a: answer it (one of 0, 1)."),
        ([0, 0, None, None, None, 0], "send 7 answers, not 6."),
    ],
)
def test_cssrs_skip_logic_is_enforced_by_the_api(api, patient, patient_a, answers, message):
    response = submit(api, patient, patient_a, "cssrs", answers)

    assert response.status_code == 400
    assert any(message in error for error in response.json()["answers"]), response.json()
    assert not QuestionnaireResponse.objects.exists()


def test_the_difficulty_question_is_stored_and_checked(api, patient, patient_a):
    client = api.as_user(patient)
    body = {"patient": str(patient_a.pk), "instrument": "phq9", "answers": [1] * 8 + [0]}
    assert client.post(URL, {**body, "difficulty": 4}, format="json").status_code == 400
    assert client.post(URL, {**body, "difficulty": 4}, format="json").json()["difficulty"]
    created = client.post(URL, {**body, "difficulty": 2}, format="json")
    assert created.status_code == 201 and created.json()["difficulty"] == 2
    refused = client.post(URL, {**body, "instrument": "gad7", "answers": [0] * 7, "difficulty": 1}, format="json")
    assert refused.status_code == 400 and "has no difficulty question" in refused.json()["difficulty"][0]


# The portal form (phone-first, no JavaScript): the patient's own, and a clinician's on the patient's behalf.


def post_page(client, url, answers, *, shown, difficulty=None, carried=None):
    data = {f"item_{number}": value for number, value in {**(carried or {}), **answers}.items()}
    data["shown"] = shown
    if difficulty is not None:
        data["difficulty"] = difficulty
    return client.post(url, data)


def test_the_patient_answers_a_phq9_and_sees_their_score(client, patient, patient_a):
    client.force_login(patient)
    url = "/questionnaires/phq9/"
    page = client.get(url).content.decode()
    assert page.count('type="radio"') == 9 * 4 + 4  # every item and the difficulty question
    assert "how difficult have these problems made it" in page

    done = post_page(client, url, dict.fromkeys(range(1, 10), 1) | {9: 0}, shown="1,2,3,4,5,6,7,8,9", difficulty=1)

    stored = QuestionnaireResponse.objects.get()
    assert done.status_code == 302 and done.url == f"/questionnaires/responses/{stored.pk}/"
    assert (stored.total_score, stored.difficulty, stored.on_behalf) == (8, 1, False)
    thanks = client.get(done.url).content.decode()
    assert "Your score: <strong>8</strong> (mild)" in thanks and "Help is available now" not in thanks


def test_every_item_is_required_on_the_form(client, patient, patient_a):
    client.force_login(patient)
    answers = dict.fromkeys(range(1, 9), 0)  # item 9 left out
    page = post_page(client, "/questionnaires/phq9/", answers, shown="1,2,3,4,5,6,7,8,9", difficulty=0)

    assert page.status_code == 200
    assert "Answer question 9." in page.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_item_9_above_0_takes_the_patient_to_crisis_resources(client, patient, patient_a, therapist_a, prescriber):
    client.force_login(patient)
    done = post_page(
        client,
        "/questionnaires/phq9/",
        dict.fromkeys(range(1, 10), 0) | {9: 1},
        shown="1,2,3,4,5,6,7,8,9",
        difficulty=0,
    )

    page = client.get(done.url).content.decode()
    assert "Help is available now" in page
    assert 'href="tel:988"' in page and 'href="sms:988"' in page and 'href="tel:911"' in page
    assert "Your care team has been told." in page
    assert str(therapist_a) in page and str(prescriber) in page
    assert SafetyAlert.objects.get().kind == SafetyAlert.Kind.PHQ9_ITEM9


def test_cssrs_steps_through_its_skip_logic_and_the_server_enforces_it(client, patient, patient_a):
    client.force_login(patient)
    url = "/questionnaires/cssrs/"
    first = client.get(url).content.decode()
    assert 'name="item_1"' in first and 'name="item_2"' in first and 'name="item_3"' not in first

    # No to 2: the next page asks 6 only (3-5 are skipped), carrying 1 and 2 as hidden answers.
    second = post_page(client, url, {1: 1, 2: 0}, shown="1,2").content.decode()
    assert 'name="item_6"' in second and 'type="radio" name="item_3"' not in second
    assert 'type="hidden" name="item_2" value="0"' in second

    # A tampered page that answers 3 anyway: the server walks the skip logic again and ignores it.
    third = post_page(client, url, {6: 1, 3: 1}, shown="6", carried={1: 1, 2: 0})
    assert 'name="item_7"' in third.content.decode()  # 6a: was it within the past 3 months?
    done = post_page(client, url, {7: 0}, shown="7", carried={1: 1, 2: 0, 6: 1, 3: 1})

    stored = QuestionnaireResponse.objects.get()
    assert stored.answers == [1, 0, None, None, None, 1, 0] and stored.severity == "moderate"
    assert "Help is available now" in client.get(done.url).content.decode()


def test_a_therapist_enters_a_phq9_for_the_patient_from_the_chart(client, therapist_a, patient_a):
    client.force_login(therapist_a)
    url = f"/patients/{patient_a.pk}/questionnaires/phq9/"
    assert "on their behalf" in client.get(url).content.decode()

    done = post_page(client, url, dict.fromkeys(range(1, 10), 2) | {9: 0}, shown="1,2,3,4,5,6,7,8,9", difficulty=2)

    assert done.status_code == 302 and done.url.startswith(f"/patients/{patient_a.pk}/")
    stored = QuestionnaireResponse.objects.get()
    assert (stored.entered_by, stored.on_behalf, stored.total_score) == (therapist_a, True, 16)
    chart = client.get(f"/patients/{patient_a.pk}/chart/measures/").content.decode()
    assert f"entered by {therapist_a}" in chart and "moderately severe" in chart


def test_the_chart_form_refuses_a_coordinator_and_hides_from_outsiders(client, coordinator, therapist_b, patient_a):
    client.force_login(coordinator)
    assert client.get(f"/patients/{patient_a.pk}/questionnaires/phq9/").status_code == 403
    client.force_login(therapist_b)
    assert client.get(f"/patients/{patient_a.pk}/questionnaires/phq9/").status_code == 404
    assert client.get("/questionnaires/nope/").status_code in (403, 404)


def test_another_patient_cannot_open_a_response_page(client, patient, other_patient, patient_a):
    response = questionnaire_submit_as(patient, patient_a, "gad7", [0] * 7)
    client.force_login(other_patient)
    assert client.get(f"/questionnaires/responses/{response.pk}/").status_code == 404
    client.force_login(patient)
    assert client.get(f"/questionnaires/responses/{response.pk}/").status_code == 200
    assert AuditEvent.objects.filter(
        object_id=str(response.pk), action=AuditEvent.Action.READ, actor=other_patient, outcome="denied"
    ).exists()


def questionnaire_submit_as(user, patient, code, answers):
    from assessments.questionnaires.services import questionnaire_submit

    return questionnaire_submit(actor=user, patient=patient, instrument=code, answers=answers)


def test_a_rise_alone_shows_crisis_resources_without_speaking_of_self_harm(client, patient, patient_a):
    questionnaire_submit_as(patient, patient_a, "phq9", answers_for("phq9", 6))
    client.force_login(patient)
    done = post_page(
        client,
        "/questionnaires/phq9/",
        dict.fromkeys(range(1, 10), 1) | {9: 0, 1: 3, 2: 3},
        shown="1,2,3,4,5,6,7,8,9",
        difficulty=1,
    )  # 12: a rise of 6

    page = client.get(done.url).content.decode()
    assert SafetyAlert.objects.get().kind == SafetyAlert.Kind.PHQ9_RISE
    assert "feeling a good deal worse than last time" in page and "harming yourself" not in page
    assert "Your care team has been told." in page and 'href="tel:988"' in page

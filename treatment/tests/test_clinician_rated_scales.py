"""Clinician-rated scales (issue 21, point 7): the prescriber rates CGI-S and CGI-I as instrument data like the
questionnaires, and they are plotted with the self-reports; the patient and the therapist cannot rate them."""

import pytest
from django.core.exceptions import PermissionDenied

from assessments import instruments
from assessments.questionnaires import services as questionnaire_services
from treatment.measurement import selectors as measurement_selectors
from treatment.measurement.views import scores_for_chart


def rate(actor, patient, code, value):
    return questionnaire_services.questionnaire_submit(actor=actor, patient=patient, instrument=code, answers=[value])


def test_the_cgi_scales_are_instrument_data_rated_by_the_clinician():
    severity, improvement = instruments.get("cgi_s"), instruments.get("cgi_i")
    assert severity.clinician_rated and improvement.clinician_rated and not instruments.get("phq9").clinician_rated
    assert severity.values == tuple(range(1, 8)) and severity.severity(5) == "markedly ill"
    assert improvement.severity(2) == "improved" and improvement.severity(6) == "worse"


def test_the_prescriber_rates_cgi_and_it_is_plotted_with_the_self_reports(prescriber, patient_a):
    questionnaire_services.questionnaire_submit(
        actor=patient_a.user, patient=patient_a, instrument="gad7", answers=[2] * 7
    )
    response = rate(prescriber, patient_a, "cgi_s", 5)
    assert response.total_score == 5 and response.severity == "markedly ill" and response.on_behalf
    rate(prescriber, patient_a, "cgi_i", 2)
    history = measurement_selectors.score_history(prescriber, patient_a)
    assert {series.instrument.code for series in history.series} >= {"gad7", "cgi_s", "cgi_i"}
    svgs = " ".join(chart["svg"] for chart in scores_for_chart(prescriber, patient_a)["charts"])
    assert "chart-cgi_s" in svgs and "chart-gad7" in svgs and "CGI-S" in svgs


@pytest.mark.parametrize("who", ["patient", "therapist"])
def test_only_the_prescriber_rates_cgi(who, patient_a, therapist_a):
    actor = patient_a.user if who == "patient" else therapist_a
    with pytest.raises(PermissionDenied, match="rated by the prescriber"):
        rate(actor, patient_a, "cgi_s", 4)
    from assessments.models import QuestionnaireResponse

    assert not QuestionnaireResponse.objects.filter(patient=patient_a).exists()


def test_the_patients_questionnaire_list_does_not_offer_cgi(client, patient_a):
    client.force_login(patient_a.user)
    page = client.get("/questionnaires/")
    assert page.status_code == 200 and "CGI" not in page.content.decode()

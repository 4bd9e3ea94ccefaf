"""The order of the course and absolute contraindications at the evaluation (issue 12, points 5 and 6), and the
whole evaluation through the API with screening flags. Each rule: the hostile path through the API and the
portal, refused with the rule named, then the allowed path next to it."""

from decimal import Decimal

from assessments import services as assessment_services
from assessments.models import Evaluation, ScreeningFlag
from patients import content
from patients.models import Stage
from tests.course_states import EVALUATION, ready_for_evaluation, sign_consents
from tests.factories import INTAKE_ANSWERS

URL = "/api/v1/evaluations/"
ORDER = "evaluation_after_intake_and_consents"
ABSOLUTE = "absolute_contraindication"


def body(patient, **changes):
    values = {key: str(value) if isinstance(value, Decimal) else value for key, value in EVALUATION.items()}
    return {"patient": str(patient.pk), **values, "flag_reviews": [], "sign": True, **changes}


def portal_form(**changes):
    return {**EVALUATION, "action": "sign", **changes}


def submit_intake(patient, **answers):
    assessment_services.intake_submit(
        actor=patient.user, patient=patient, data={**INTAKE_ANSWERS, **answers}, medications=[]
    )
    patient.refresh_from_db()


# Order of the course ------------------------------------------------------------------------------


def test_eligible_before_intake_and_consents_is_refused_through_the_api_and_the_portal(
    api, client, prescriber, patient_a
):
    content.seed_current()  # three required consents are published; the patient signed none and has no intake
    client.force_login(prescriber)
    page = f"/patients/{patient_a.pk}/evaluation/"
    assert "3 required consents to sign" in client.get(page).content.decode()

    refused = api.as_user(prescriber).post(URL, body(patient_a), format="json")

    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == ORDER
    detail = refused.json()["detail"]
    assert "“intake and consents before evaluation”" in detail
    assert "the intake is not submitted" in detail and "3 required consents not signed" in detail
    assert Evaluation.objects.get(patient=patient_a).status == "draft", "a refused signature keeps the draft"

    portal = client.post(page, portal_form())
    assert portal.status_code == 409
    assert "intake and consents before evaluation" in portal.content.decode()
    assert not Evaluation.objects.signed().filter(patient=patient_a).exists()

    sign_consents(patient_a)  # the consents alone are not enough
    still = api.as_user(prescriber).post(URL, body(patient_a), format="json")
    assert still.status_code == 409
    assert "the intake is not submitted" in still.json()["detail"]
    assert "consent" not in still.json()["detail"].split(":", 2)[-1]

    submit_intake(patient_a)
    allowed = api.as_user(prescriber).post(URL, body(patient_a), format="json")
    assert allowed.status_code == 201, allowed.content
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.PREPARATION


def test_intake_without_consents_is_refused_naming_the_consents(api, client, prescriber, patient_a):
    content.seed_current()
    submit_intake(patient_a)

    refused = api.as_user(prescriber).post(URL, body(patient_a), format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == ORDER
    assert "3 required consents not signed" in refused.json()["detail"]
    assert "intake is not submitted" not in refused.json()["detail"]


def test_deferral_and_ineligibility_may_be_signed_before_the_intake(api, client, prescriber, patient_a, patient_b):
    """A prescriber may rule a patient out, or defer, on what the interview shows; only "eligible" waits."""
    content.seed_current()
    deferred = api.as_user(prescriber).post(URL, body(patient_a, decision="deferred"), format="json")
    assert deferred.status_code == 201, deferred.content
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.INTAKE, "a deferral leaves the front door where it was"

    client.force_login(prescriber)
    response = client.post(f"/patients/{patient_b.pk}/evaluation/", portal_form(decision="ineligible"))
    assert response.status_code == 302
    patient_b.refresh_from_db()
    assert patient_b.stage == Stage.INELIGIBLE


# Absolute contraindications -------------------------------------------------------------------------


def _hypertensive(patient):
    """Intake with resting BP 185/105: an absolute screening flag (the relative one is superseded)."""
    sign_consents(patient)
    submit_intake(patient, bp_systolic=185, bp_diastolic=105)
    flag = ScreeningFlag.objects.get(intake__patient=patient)
    assert flag.severity == "absolute" and "185/105" in flag.reason
    return flag


def test_a_confirmed_absolute_flag_blocks_eligible_through_the_api_and_the_portal(api, client, prescriber, patient_a):
    flag = _hypertensive(patient_a)
    confirmed = [{"flag": flag.pk, "outcome": "confirmed", "reason": ""}]
    hostile = body(patient_a, bp_systolic=190, bp_diastolic=112, rationale="ok", flag_reviews=confirmed)

    refused = api.as_user(prescriber).post(URL, hostile, format="json")

    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == ABSOLUTE
    assert "“no absolute contraindication”" in refused.json()["detail"]
    assert "resting BP 185/105" in refused.json()["detail"]
    client.force_login(prescriber)
    page = f"/patients/{patient_a.pk}/evaluation/"
    form = portal_form(bp_systolic=190, bp_diastolic=112, rationale="ok", **{f"flag_{flag.pk}_outcome": "confirmed"})
    portal = client.post(page, form)
    assert portal.status_code == 409
    assert "no absolute contraindication" in portal.content.decode()
    assert not Evaluation.objects.signed().filter(patient=patient_a).exists()

    # Dismissing the flag needs a reason; with one, the evaluation's own pressure still has to be below the limit.
    dismissed = [{"flag": flag.pk, "outcome": "dismissed", "reason": "White-coat effect: home readings 128/82."}]
    measured = api.as_user(prescriber).post(
        URL, body(patient_a, bp_systolic=190, bp_diastolic=112, flag_reviews=dismissed), format="json"
    )
    assert measured.status_code == 409
    assert measured.json()["code"] == ABSOLUTE
    assert "measured at this evaluation, resting BP 190/112 above 180/100" in measured.json()["detail"]

    allowed = api.as_user(prescriber).post(URL, body(patient_a, flag_reviews=dismissed), format="json")
    assert allowed.status_code == 201, allowed.content
    assert allowed.json()["flag_reviews"][0]["reason"] == "White-coat effect: home readings 128/82."
    assert "White-coat effect" in client.get(page).content.decode()
    chart = client.get(f"/patients/{patient_a.pk}/chart/course/").content.decode()
    assert "absolute contraindication dismissed" in chart and "White-coat effect" in chart


def test_a_confirmed_absolute_flag_may_be_signed_ineligible_or_deferred(api, client, prescriber, patient_a):
    flag = _hypertensive(patient_a)
    confirmed = [{"flag": flag.pk, "outcome": "confirmed", "reason": ""}]
    client.force_login(prescriber)

    response = client.post(
        f"/patients/{patient_a.pk}/evaluation/",
        portal_form(decision="deferred", rationale="Recheck once treated.", **{f"flag_{flag.pk}_outcome": "confirmed"}),
    )
    assert response.status_code == 302
    patient_a.refresh_from_db()
    assert patient_a.stage == Stage.EVALUATION

    ineligible = api.as_user(prescriber).post(
        URL, body(patient_a, decision="ineligible", flag_reviews=confirmed), format="json"
    )
    assert ineligible.status_code == 201, ineligible.content


def test_the_blood_pressure_measured_at_evaluation_blocks_eligible(api, client, prescriber, patient_a):
    ready_for_evaluation(patient_a)  # no flag on the intake
    refused = api.as_user(prescriber).post(URL, body(patient_a, bp_systolic=172, bp_diastolic=104), format="json")
    assert refused.status_code == 409
    assert "BP 172/104 above 180/100" in refused.json()["detail"]

    client.force_login(prescriber)
    portal = client.post(f"/patients/{patient_a.pk}/evaluation/", portal_form(bp_systolic=181, bp_diastolic=90))
    assert portal.status_code == 409

    at_the_limit = api.as_user(prescriber).post(URL, body(patient_a, bp_systolic=180, bp_diastolic=100), format="json")
    assert at_the_limit.status_code == 201, at_the_limit.content


# The whole evaluation through the API ---------------------------------------------------------------


def test_an_integrating_system_evaluates_a_flagged_patient_through_the_api(api, prescriber, patient_a):
    ready_for_evaluation(patient_a, flagged=True)
    client = api.as_user(prescriber)

    intakes = client.get("/api/v1/intakes/", {"patient": str(patient_a.pk)}).json()["results"]
    flags = intakes[0]["flags"]
    assert len(flags) >= 2
    assert all(isinstance(flag["id"], int) for flag in flags)

    draft = client.post(URL, body(patient_a, sign=False), format="json")
    assert draft.status_code == 201
    unreviewed = client.post(f"{URL}{draft.json()['id']}/sign/")
    assert unreviewed.status_code == 400
    assert "flag_reviews" in unreviewed.json()

    reviews = [{"flag": flag["id"], "outcome": "confirmed", "reason": ""} for flag in flags]  # all relative
    patched = client.patch(f"{URL}{draft.json()['id']}/", {"flag_reviews": reviews}, format="json")
    assert patched.status_code == 200, patched.content
    signed = client.post(f"{URL}{draft.json()['id']}/sign/")

    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "signed"
    assert {review["flag"] for review in signed.json()["flag_reviews"]} == {flag["id"] for flag in flags}

"""The intake: draft and resume, submission and its validation, the lock, who sees what, the audit trail,
the portal pages and the API's query budget."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from assessments import selectors, services
from assessments.models import Intake, ScreeningFlag
from kapcare.audit.models import AuditEvent
from patients.models import Stage
from tests.factories import INTAKE_ANSWERS
from tests.fixtures import refer

pytestmark = pytest.mark.django_db

# A complete intake with two findings: BP above the absolute limit and a benzodiazepine.
FLAGGED = {**INTAKE_ANSWERS, "bp_systolic": 182, "bp_diastolic": 104, "takes_medications": True}
XANAX = {"name": "Xanax", "dose": "0.5 mg", "frequency": "as needed"}
BP_REASON = "resting BP 182/104 above 180/100"


def submitted(patient, actor=None, answers=FLAGGED, medications=(XANAX,)):
    actor = actor or patient.user
    services.intake_save_draft(actor=actor, patient=patient, data=answers, medications=list(medications))
    return services.intake_submit(actor=actor, patient=patient)


def events(**filters):
    return AuditEvent.objects.filter(**filters)


def form_data(answers=None, medications=(), action="save"):
    """What the browser posts: radio values as True/False, empty strings for unanswered questions."""
    data = {"action": action}
    for name, value in (answers or {}).items():
        data[name] = "" if value is None else str(value)
    data["medications-TOTAL_FORMS"] = str(len(medications) + 2)
    data["medications-INITIAL_FORMS"] = str(len(medications))
    data["medications-MIN_NUM_FORMS"] = "0"
    data["medications-MAX_NUM_FORMS"] = "40"
    for index, medication in enumerate(medications):
        for name, value in medication.items():
            data[f"medications-{index}-{name}"] = value
    return data


# --- Services ---------------------------------------------------------------------------------------


def test_a_draft_is_saved_and_resumed(patient_a):
    first = services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={"allergies": "penicillin"})
    again = services.intake_save_draft(
        actor=patient_a.user, patient=patient_a, data={"height_cm": 172}, medications=[XANAX]
    )

    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.status, again.allergies, again.height_cm) == (Intake.Status.DRAFT, "penicillin", 172)
    [medication] = again.medications.all()
    assert medication.is_benzodiazepine, "the class is ticked from the name"
    actions = list(events(object_id=str(first.pk)).order_by("id").values_list("action", flat=True))
    assert actions == [AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE]


def test_medications_sent_again_replace_the_list(patient_a):
    services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={}, medications=[XANAX])
    intake = services.intake_save_draft(
        actor=patient_a.user, patient=patient_a, data={}, medications=[{"name": "Sertraline", "dose": "50 mg"}]
    )
    assert [m.name for m in intake.medications.all()] == ["Sertraline"]
    services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={"pulse": 70})
    assert intake.medications.count() == 1, "leaving medications out keeps the list"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "submitted"}, "status"),
        ({"bp_systolic": 1000}, "bp_systolic"),
        ({"bp_systolic": 120, "bp_diastolic": 130}, "bp_diastolic"),
        ({"substance_use_disorder": "sometimes"}, "substance_use_disorder"),
    ],
)
def test_a_draft_refuses_bad_answers(patient_a, data, field):
    with pytest.raises(ValidationError) as refused:
        services.intake_save_draft(actor=patient_a.user, patient=patient_a, data=data)
    assert field in refused.value.message_dict
    assert not Intake.objects.exists()


def test_submitting_an_incomplete_intake_names_every_missing_answer(patient_a):
    services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={"allergies": "none"})

    with pytest.raises(ValidationError) as refused:
        services.intake_submit(actor=patient_a.user, patient=patient_a)

    missing = refused.value.message_dict
    assert {"glaucoma", "bp_systolic", "pregnant", "has_support_person", "takes_medications"} <= set(missing)
    assert "allergies" not in missing
    assert missing["glaucoma"] == ["Please answer yes or no."]
    intake = Intake.objects.get()
    assert intake.status == Intake.Status.DRAFT
    assert not ScreeningFlag.objects.exists()
    patient_a.refresh_from_db()
    assert patient_a.intake_submitted_at is None


def test_submission_screens_locks_and_moves_the_patient_on(patient_a):
    intake = submitted(patient_a)

    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.submitted_at is not None
    assert intake.submitted_by == patient_a.user
    flags = list(intake.flags.values_list("code", "severity", "reason"))
    assert flags[0] == ("bp_above_absolute", "absolute", BP_REASON)
    assert flags[1][:2] == ("medication_benzodiazepine", "relative")
    assert "Xanax 0.5 mg" in flags[1][2]
    patient_a.refresh_from_db()
    assert patient_a.intake_submitted_at is not None
    assert patient_a.stage in (Stage.INTAKE, Stage.EVALUATION)
    actions = list(events(object_id=str(intake.pk)).order_by("id").values_list("action", flat=True))
    assert actions == [AuditEvent.Action.CREATE, AuditEvent.Action.UPDATE]  # the draft, then the submission


def test_a_submitted_intake_is_locked(patient_a):
    intake = submitted(patient_a)

    with pytest.raises(services.IntakeLocked):
        services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={"allergies": "latex"})
    with pytest.raises(services.IntakeLocked):
        services.intake_submit(actor=patient_a.user, patient=patient_a)
    intake.refresh_from_db()
    assert intake.allergies == INTAKE_ANSWERS["allergies"]


def test_screening_uses_the_thresholds_in_the_database(patient_a):
    from assessments.models import ScreeningRule

    ScreeningRule.objects.filter(code="bp_above_absolute").update(limit=190, second_limit=110)
    intake = submitted(patient_a)
    assert not intake.flags.filter(code="bp_above_absolute").exists()
    assert intake.flags.get(code="bp_above_relative").reason == "resting BP 182/104 above 140/90"


def test_the_care_team_may_write_the_intake_and_the_coordinator_may_not(
    patient_a, therapist_a, prescriber, coordinator
):
    services.intake_save_draft(actor=therapist_a, patient=patient_a, data={"allergies": "none"})
    services.intake_save_draft(actor=prescriber, patient=patient_a, data={"pulse": 72})
    with pytest.raises(PermissionDenied):
        services.intake_save_draft(actor=coordinator, patient=patient_a, data={"pulse": 80})
    denied = events(outcome=AuditEvent.Outcome.DENIED).get()
    assert (denied.actor, denied.patient_id) == (coordinator, patient_a.pk)


# --- API ---------------------------------------------------------------------------------------------


def test_api_patch_saves_a_draft_and_submit_validates(api, patient_a):
    intake = services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={})
    client = api.as_user(patient_a.user)

    response = client.patch(
        f"/api/v1/intakes/{intake.pk}/", {**INTAKE_ANSWERS, "weight_kg": "70.0", "medications": []}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"

    response = client.patch(f"/api/v1/intakes/{intake.pk}/", {"pulse": None, "colour": "blue"}, format="json")
    assert response.status_code == 400
    assert "colour" in response.json()

    client.patch(f"/api/v1/intakes/{intake.pk}/", {"pulse": None}, format="json")
    response = client.post(f"/api/v1/intakes/{intake.pk}/submit/")
    assert response.status_code == 400
    assert response.json() == {"pulse": ["Please fill this in."]}

    client.patch(f"/api/v1/intakes/{intake.pk}/", {"pulse": 70}, format="json")
    response = client.post(f"/api/v1/intakes/{intake.pk}/submit/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"


def test_api_refuses_changes_to_a_submitted_intake_with_409(api, patient_a):
    intake = submitted(patient_a)
    client = api.as_user(patient_a.user)

    response = client.patch(f"/api/v1/intakes/{intake.pk}/", {"allergies": "latex"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "intake_locked"
    assert "submitted" in response.json()["detail"]
    assert client.post(f"/api/v1/intakes/{intake.pk}/submit/").status_code == 409


def test_the_api_starts_one_intake_and_refuses_a_second_with_409(api, patient_a):
    client = api.as_user(patient_a.user)

    first = client.post("/api/v1/intakes/", {"patient": str(patient_a.pk)}, format="json")
    again = client.post("/api/v1/intakes/", {"patient": str(patient_a.pk)}, format="json")

    assert first.status_code == 201, first.content
    assert again.status_code == 409 and again.json()["code"] == "intake_exists"
    assert Intake.objects.filter(patient=patient_a).count() == 1
    Intake.objects.filter(patient=patient_a).delete()
    submitted(patient_a)
    assert client.post("/api/v1/intakes/", {"patient": str(patient_a.pk)}, format="json").status_code == 409


def test_the_patient_never_sees_flags_in_the_api(api, patient_a):
    intake = submitted(patient_a)
    client = api.as_user(patient_a.user)

    detail = client.get(f"/api/v1/intakes/{intake.pk}/")
    listed = client.get("/api/v1/intakes/")

    assert detail.status_code == 200
    assert detail.json()["bp_systolic"] == 182
    for body in (detail.json(), listed.json()["results"][0]):
        assert "flags" not in body
        assert "flag_count" not in body
    assert BP_REASON not in detail.content.decode() + listed.content.decode()


def test_clinicians_see_flags_and_the_coordinator_only_status_and_count(api, patient_a, prescriber, coordinator):
    intake = submitted(patient_a)

    clinical = api.as_user(prescriber).get(f"/api/v1/intakes/{intake.pk}/").json()
    assert clinical["flag_count"] == 2
    assert clinical["flags"][0] == {
        "id": intake.flags.get(code="bp_above_absolute").pk,  # what an evaluation's flag review names
        "code": "bp_above_absolute",
        "severity": "absolute",
        "reason": BP_REASON,
        "created_at": clinical["flags"][0]["created_at"],
    }
    assert clinical["medications"][0]["is_benzodiazepine"] is True

    summary = api.as_user(coordinator).get(f"/api/v1/intakes/{intake.pk}/").json()
    assert set(summary) == {"id", "patient", "status", "created_at", "updated_at", "submitted_at", "flag_count"}
    assert summary["flag_count"] == 2


def test_outsiders_get_404_on_every_intake_route(api, patient_a, therapist_b, other_patient):
    intake = services.intake_save_draft(actor=patient_a.user, patient=patient_a, data={})
    for user in (therapist_b, other_patient):
        client = api.as_user(user)
        assert client.get(f"/api/v1/intakes/{intake.pk}/").status_code == 404
        assert client.patch(f"/api/v1/intakes/{intake.pk}/", {"pulse": 70}, format="json").status_code == 404
        assert client.post(f"/api/v1/intakes/{intake.pk}/submit/").status_code == 404
        assert client.get(f"/api/v1/intakes/?patient={patient_a.pk}").status_code == 404
        assert client.get("/api/v1/intakes/").json()["results"] == []
    denied = events(outcome=AuditEvent.Outcome.DENIED, patient=patient_a)
    assert denied.count() == 8


def test_api_list_filters_by_patient_and_refuses_a_bad_uuid(api, patient_a, patient_b, prescriber):
    submitted(patient_a)
    submitted(patient_b)
    client = api.as_user(prescriber)

    assert client.get("/api/v1/intakes/").json()["count"] == 2
    only_a = client.get(f"/api/v1/intakes/?patient={patient_a.pk}").json()
    assert [item["patient"] for item in only_a["results"]] == [str(patient_a.pk)]
    bad = client.get("/api/v1/intakes/?patient=not-a-uuid")
    assert bad.status_code == 400
    assert "patient" in bad.json()
    assert client.get("/api/v1/intakes/not-a-uuid/").status_code == 404


def test_api_reads_are_audited(api, patient_a, patient_b, prescriber):
    first = submitted(patient_a)
    second = submitted(patient_b)
    client = api.as_user(prescriber)

    client.get("/api/v1/intakes/")
    listed = events(actor=prescriber, action=AuditEvent.Action.LIST)
    assert sorted(listed.values_list("object_id", flat=True)) == sorted([str(first.pk), str(second.pk)])
    assert {e.patient_id for e in listed} == {patient_a.pk, patient_b.pk}

    client.get(f"/api/v1/intakes/{first.pk}/")
    read = events(actor=prescriber, action=AuditEvent.Action.READ).get()
    assert (read.object_type, read.object_id, read.patient_id) == ("assessments.intake", str(first.pk), patient_a.pk)


def make_intakes(count, therapist, prescriber, coordinator):
    for n in range(count):
        patient = refer(
            therapist,
            f"Pat{n}",
            f"Load{n:03d}",
            f"load{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
        )
        submitted(
            patient, actor=therapist, medications=(XANAX, {"name": "Adderall", "dose": "10 mg", "frequency": "am"})
        )


# Session, user, second factor, count, page, medicines (one prefetch; not for the coordinator), flags
# (one prefetch; clinicians only) and one audit INSERT (the idle clock, kept to the minute, writes nothing here).
INTAKE_LIST_QUERIES = {"prescriber": 8, "coordinator": 6}


@pytest.mark.parametrize("role", sorted(INTAKE_LIST_QUERIES))
@pytest.mark.parametrize("size", [1, 20])
def test_intake_list_api_query_count_is_constant(api, cast, therapist_a, prescriber, coordinator, role, size):
    make_intakes(size, therapist_a, prescriber, coordinator)
    client = api.as_user(cast[role])
    client.get("/api/v1/intakes/")  # warm: the session learns the user's second factor once

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/intakes/")

    assert response.json()["count"] == size
    assert len(captured.captured_queries) == INTAKE_LIST_QUERIES[role]


# --- Portal pages ------------------------------------------------------------------------------------


def test_the_patient_saves_a_draft_resumes_and_submits_on_the_web(client, patient_a):
    client.force_login(patient_a.user)

    page = client.get("/intake/")
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Do you have glaucoma or raised pressure in the eye?", "Height (cm)", "Save draft", "Submit"):
        assert label in html
    assert "<legend>Medical history</legend>" in html

    response = client.post("/intake/", form_data({"allergies": "penicillin", "glaucoma": True}, [XANAX]))
    assert response.status_code == 302
    resumed = client.get("/intake/").content.decode()
    assert "penicillin" in resumed
    assert 'value="Xanax"' in resumed

    response = client.post("/intake/", form_data({"allergies": "penicillin"}, [XANAX], action="submit"))
    assert response.status_code == 400
    assert "Your answers are saved. A few questions still need an answer" in response.content.decode()
    assert Intake.objects.get().status == Intake.Status.DRAFT

    response = client.post("/intake/", form_data(FLAGGED, [XANAX], action="submit"), follow=True)
    html = response.content.decode()
    assert "Thank you — your medical team will review your answers" in html
    assert Intake.objects.get().status == Intake.Status.SUBMITTED
    for verdict in (BP_REASON, "bsolute", "elative", "flag", "benzodiazepine"):
        assert verdict not in html


def test_bad_web_input_is_a_clear_400(client, patient_a):
    client.force_login(patient_a.user)
    response = client.post("/intake/", form_data({"bp_systolic": "abc", "height_cm": 5}))
    assert response.status_code == 400
    assert "Please check these answers" in response.content.decode()
    assert not Intake.objects.exists()


def test_the_patient_page_of_a_submitted_intake_shows_no_flag(client, patient_a):
    submitted(patient_a)
    client.force_login(patient_a.user)
    for path in ("/intake/", f"/patients/{patient_a.pk}/intake/"):
        html = client.get(path).content.decode()
        assert BP_REASON not in html
        assert "screening flag" not in html.lower()


def test_the_clinician_page_shows_answers_and_flags(client, patient_a, prescriber):
    submitted(patient_a)
    client.force_login(prescriber)
    html = client.get(f"/patients/{patient_a.pk}/intake/").content.decode()
    assert BP_REASON in html
    assert "Absolute:" in html
    assert "Xanax" in html
    assert "Do you have glaucoma or raised pressure in the eye?" in html


def test_the_coordinator_page_shows_status_and_flag_count_only(client, patient_a, coordinator):
    submitted(patient_a)
    client.force_login(coordinator)
    response = client.get(f"/patients/{patient_a.pk}/intake/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Submitted" in html
    assert "<dt>Screening flags</dt><dd>2</dd>" in html
    for detail in (BP_REASON, "Xanax", "glaucoma", "182"):
        assert detail not in html


def test_a_therapist_fills_in_the_intake_with_the_patient(client, patient_a, therapist_a, coordinator, therapist_b):
    client.force_login(therapist_a)
    response = client.post(f"/patients/{patient_a.pk}/intake/edit/", form_data({"allergies": "none"}))
    assert response.status_code == 302
    assert Intake.objects.get().allergies == "none"

    client.force_login(coordinator)
    assert client.get(f"/patients/{patient_a.pk}/intake/edit/").status_code == 403
    client.force_login(therapist_b)
    assert client.get(f"/patients/{patient_a.pk}/intake/edit/").status_code == 404
    assert client.post(f"/patients/{patient_a.pk}/intake/edit/", form_data({"allergies": "x"})).status_code == 404
    assert Intake.objects.get().allergies == "none"


def test_page_reads_are_audited(client, patient_a, prescriber):
    intake = submitted(patient_a)
    client.force_login(prescriber)
    client.get(f"/patients/{patient_a.pk}/intake/")
    assert events(actor=prescriber, action=AuditEvent.Action.READ, object_id=str(intake.pk)).count() == 1


# --- What the lead includes in the chart and the dashboard ------------------------------------------


def test_intake_for_chart_tells_each_role_what_it_may_see(patient_a, prescriber, coordinator):
    submitted(patient_a)

    clinician = selectors.intake_for_chart(prescriber, patient_a)
    assert (clinician.show_answers, clinician.show_flags, clinician.show_flag_count) == (True, True, True)
    assert clinician.flags[0].reason == BP_REASON

    staff = selectors.intake_for_chart(coordinator, patient_a)
    assert (staff.show_answers, staff.show_flags, staff.show_flag_count, staff.flags) == (False, False, True, [])
    html = render_to_string("assessments/_chart_intake.html", {"intake_chart": staff})
    assert "2 screening flags" in html
    assert BP_REASON not in html

    own = selectors.intake_for_chart(patient_a.user, patient_a)
    assert (own.show_flags, own.show_flag_count, own.flags) == (False, False, [])
    html = render_to_string("assessments/_chart_intake.html", {"intake_chart": own})
    assert "flag" not in html.lower()

    html = render_to_string("assessments/_chart_intake.html", {"intake_chart": clinician})
    assert BP_REASON in html


def test_screening_flags_for_a_page_of_patients_take_one_query(patient_a, patient_b, patient_a2):
    submitted(patient_a)
    submitted(patient_b, answers=INTAKE_ANSWERS, medications=())

    with CaptureQueriesContext(connection) as captured:
        flags = selectors.screening_flags_for_patients([patient_a.pk, patient_b.pk, patient_a2.pk])

    assert len(captured.captured_queries) == 1
    assert set(flags) == {patient_a.pk}
    assert [flag.code for flag in flags[patient_a.pk]] == ["bp_above_absolute", "medication_benzodiazepine"]
    html = render_to_string("assessments/_flag_list.html", {"flags": flags[patient_a.pk]})
    assert BP_REASON in html

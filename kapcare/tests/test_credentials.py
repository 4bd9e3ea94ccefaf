"""Credentials at every signature (issue 12, point 7): a current licence in the patient's state, a current DEA
registration for that state and KAP training recorded, to sign an evaluation, a dose plan or a follow-up; a
therapist's licence covering the client's state (or a coordinator's documented exception) to refer. Each rule:
the hostile path through the API and the portal, refused naming the missing credential, then the allowed path."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from kapcare.accounts.models import DEARegistration, KAPTraining, Licence, ReferralStateException, User
from kapcare.audit.models import AuditEvent
from patients.models import Patient
from patients.tests.test_referral import REFERRAL as FULL_REFERRAL
from tests.course_states import DOSE_PLAN, EVALUATION, ready_for_evaluation, signed_dose_plan, signed_evaluation
from tests.factories import UserFactory, enrol_totp
from treatment.models import DosePlan, FollowUp

CODE = "signer_credentials"


def lapse(clinician):
    """The state the issue found: the licence expired yesterday, no DEA registration, no KAP training."""
    clinician.licences.update(expires_on=timezone.localdate() - timedelta(days=1))
    clinician.dea_registrations.all().delete()
    clinician.kap_trainings.all().delete()


def renew(clinician, state="CA"):
    next_year = timezone.localdate() + timedelta(days=365)
    clinician.licences.filter(state=state).update(expires_on=next_year)
    DEARegistration.objects.create(
        clinician=clinician, state=state, number="BR7654321", expires_on=next_year, verified_at=timezone.now()
    )
    KAPTraining.objects.create(
        clinician=clinician, completed_on=timezone.localdate(), provider="Fluence", title="KAP certificate"
    )


def plan_form(**changes):
    form = {k: ("" if v is None else v) for k, v in {**DOSE_PLAN, **changes}.items()}
    return {**form, "boosters_allowed": "on", "medication": "ketamine", "action": "sign"}


def test_a_lapsed_prescriber_cannot_sign_a_new_dose_plan_version(api, client, prescriber, patient_a):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    signed_dose_plan(prescriber, patient_a)  # version 1: 200 mg
    lapse(prescriber)
    api_client = api.as_user(prescriber)

    plan = {key: str(value) if isinstance(value, Decimal) else value for key, value in DOSE_PLAN.items()}
    draft = api_client.post(
        "/api/v1/dose-plans/", {"patient": str(patient_a.pk), **plan, "full_dose_mg": "300.0"}, format="json"
    )
    assert draft.status_code == 201, draft.content
    refused = api_client.post(f"/api/v1/dose-plans/{draft.json()['id']}/sign/")

    assert refused.status_code == 409
    assert refused.json()["code"] == CODE
    detail = refused.json()["detail"]
    assert "“current credentials”" in detail
    assert "the licence in California" in detail and "expired on" in detail
    assert "no DEA registration for California on file" in detail
    assert "no KAP training recorded" in detail
    client.force_login(prescriber)
    warned = client.get(f"/patients/{patient_a.pk}/dose-plan/").content.decode()
    assert 'id="credential-gaps"' in warned and "no KAP training recorded" in warned, "said before signing"
    portal = client.post(f"/patients/{patient_a.pk}/dose-plan/", plan_form(full_dose_mg="300.0"))
    assert portal.status_code == 409
    assert "no DEA registration for California on file" in portal.content.decode()
    assert DosePlan.objects.signed().get(patient=patient_a).full_dose_mg == Decimal("200.0")

    renew(prescriber)
    signed = api_client.post(f"/api/v1/dose-plans/{draft.json()['id']}/sign/")
    assert signed.status_code == 200, signed.content
    assert 'id="credential-gaps"' not in client.get(f"/patients/{patient_a.pk}/dose-plan/").content.decode()
    assert DosePlan.objects.signed().get(patient=patient_a).full_dose_mg == Decimal("300.0")


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("licence", "the licence in California"),
        ("dea", "no DEA registration for California on file"),
        ("training", "no KAP training recorded"),
    ],
)
def test_each_missing_credential_alone_refuses_the_evaluation(api, client, prescriber, patient_a, missing, named):
    ready_for_evaluation(patient_a)
    if missing == "licence":
        prescriber.licences.update(expires_on=timezone.localdate() - timedelta(days=1))
    elif missing == "dea":
        prescriber.dea_registrations.update(expires_on=timezone.localdate() - timedelta(days=1))
        named = "the DEA registration for California expired on"
    else:
        prescriber.kap_trainings.all().delete()
    body = {"patient": str(patient_a.pk), **EVALUATION, "weight_kg": "80.0", "sign": True}

    refused = api.as_user(prescriber).post("/api/v1/evaluations/", body, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == CODE
    assert named in refused.json()["detail"]
    assert refused.json()["detail"].count(";") == 0, "only the missing credential is named"
    client.force_login(prescriber)
    portal = client.post(f"/patients/{patient_a.pk}/evaluation/", {**EVALUATION, "action": "sign"})
    assert portal.status_code == 409
    assert named in portal.content.decode()


def test_the_licence_must_be_for_the_patients_state(api, prescriber, patient_a):
    """A current licence and DEA registration elsewhere do not cover a patient in California."""
    ready_for_evaluation(patient_a)
    prescriber.licences.update(state="OR")
    prescriber.dea_registrations.update(state="OR")
    body = {"patient": str(patient_a.pk), **EVALUATION, "weight_kg": "80.0", "sign": True}

    refused = api.as_user(prescriber).post("/api/v1/evaluations/", body, format="json")

    assert refused.status_code == 409
    assert "no licence in California on file" in refused.json()["detail"]
    assert "no DEA registration for California on file" in refused.json()["detail"]
    today = {"expires_on": timezone.localdate(), "verified_at": timezone.now()}
    Licence.objects.create(clinician=prescriber, state="CA", number="A-1", **today)
    DEARegistration.objects.create(clinician=prescriber, state="CA", number="BA1", **today)
    assert api.as_user(prescriber).post("/api/v1/evaluations/", body, format="json").status_code == 201, "today counts"


def test_a_lapsed_prescriber_cannot_sign_a_follow_up(api, client, prescriber, therapist_a, patient_a):
    ready_for_evaluation(patient_a)
    signed_evaluation(prescriber, patient_a)
    signed_dose_plan(prescriber, patient_a)
    follow_up = FollowUp.objects.pending().get(patient=patient_a)
    note = {
        "symptoms": "Better.",
        "sessions_review": "Reviewed.",
        "side_effects": "None.",
        "rationale": "Stable.",
        "decision": "maintenance",
        "next_follow_up_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }
    api_client = api.as_user(prescriber)
    assert api_client.patch(f"/api/v1/follow-ups/{follow_up.pk}/", note, format="json").status_code == 200
    prescriber.kap_trainings.all().delete()

    refused = api_client.post(f"/api/v1/follow-ups/{follow_up.pk}/sign/")
    assert refused.status_code == 409
    assert refused.json()["code"] == CODE
    assert "no KAP training recorded" in refused.json()["detail"]
    client.force_login(prescriber)
    portal = client.post(
        f"/patients/{patient_a.pk}/follow-up/", {**note, "due_on": follow_up.due_on.isoformat(), "action": "sign"}
    )
    assert portal.status_code == 409
    assert "no KAP training recorded" in portal.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.DRAFT

    KAPTraining.objects.create(clinician=prescriber, completed_on=timezone.localdate(), provider="P", title="KAP")
    assert api_client.post(f"/api/v1/follow-ups/{follow_up.pk}/sign/").status_code == 200


# Referral: the therapist's licence covers the client's state, or a coordinator's documented exception -------------

REFERRAL = {
    "first_name": "Rowan",
    "last_name": "Redwood",
    "email": "rowan@example.test",
    "date_of_birth": "1987-07-07",
    "state": "WA",
}


def test_a_therapist_refers_only_where_licensed_unless_a_coordinator_records_an_exception(
    api, client, therapist_a, coordinator
):
    refused = api.as_user(therapist_a).post("/api/v1/patients/", REFERRAL, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "referrer_licence"
    assert "no licence in Washington on file" in refused.json()["detail"]
    client.force_login(therapist_a)
    portal = client.post("/refer/", {**FULL_REFERRAL, "state": "WA", "referral_reasons": ["depression"]})
    assert portal.status_code == 409
    assert "no licence in Washington on file" in portal.content.decode()
    assert not Patient.objects.filter(email="rowan@example.test").exists()

    client.force_login(coordinator)
    page = client.get("/clinicians/credentials/")
    assert page.status_code == 200
    assert str(therapist_a) in page.content.decode()
    url = f"/clinicians/{therapist_a.pk}/referral-exceptions/"
    assert client.post(url, {"state": "WA", "reason": ""}).status_code == 400
    granted = client.post(url, {"state": "WA", "reason": "Licensed under the counseling compact; checked today."})
    assert granted.status_code == 302
    exception = ReferralStateException.objects.get(therapist=therapist_a, state="WA")
    assert exception.granted_by == coordinator
    assert AuditEvent.objects.filter(
        actor=coordinator, object_type="accounts.referralstateexception", object_id=str(exception.pk)
    ).exists()

    allowed = api.as_user(therapist_a).post("/api/v1/patients/", REFERRAL, format="json")
    assert allowed.status_code == 201, allowed.content


def test_only_the_groups_coordinator_records_a_referral_exception(client, therapist_a, prescriber, outside_world):
    url = f"/clinicians/{therapist_a.pk}/referral-exceptions/"
    form = {"state": "WA", "reason": "Because."}

    client.force_login(therapist_a)
    assert client.post(url, form).status_code == 403
    client.force_login(outside_world["coordinator"])
    assert client.post(url, form).status_code == 404
    assert not ReferralStateException.objects.exists()


def test_an_expired_therapist_licence_refuses_the_referral(api, therapist_a):
    therapist_a.licences.filter(state="CA").update(expires_on=timezone.localdate() - timedelta(days=1))

    refused = api.as_user(therapist_a).post("/api/v1/patients/", {**REFERRAL, "state": "CA"}, format="json")

    assert refused.status_code == 409
    assert "the licence in California" in refused.json()["detail"] and "expired on" in refused.json()["detail"]


# Managing credentials -------------------------------------------------------------------------------------------


def test_the_admin_records_credentials_and_every_change_is_audited(client, prescriber):
    superuser = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True, email="root@example.test")
    enrol_totp(superuser)
    client.force_login(superuser)
    assert client.get(f"/admin/accounts/user/{prescriber.pk}/change/").status_code == 200  # credentials inline
    form = {
        "clinician": prescriber.pk,
        "state": "OR",
        "number": "BO7777777",
        "expires_on": (timezone.localdate() + timedelta(days=900)).isoformat(),
        "verified_at_0": timezone.localdate().isoformat(),
        "verified_at_1": "10:00:00",
        "verification_note": "DEA registration validation lookup.",
    }

    response = client.post("/admin/accounts/dearegistration/add/", form)

    assert response.status_code == 302, response.context and response.context["errors"]
    added = DEARegistration.objects.get(clinician=prescriber, state="OR")
    assert added.verified_by == superuser
    assert AuditEvent.objects.filter(
        actor=superuser, action="create", object_type="accounts.dearegistration", object_id=str(added.pk)
    ).exists()
    licence = prescriber.licences.get()
    changed = client.post(
        f"/admin/accounts/licence/{licence.pk}/change/",
        {"clinician": prescriber.pk, "state": "CA", "number": licence.number, "kind": "md", "expires_on": "2030-01-31"},
    )
    assert changed.status_code == 302
    assert AuditEvent.objects.filter(
        actor=superuser, action="update", object_type="accounts.licence", object_id=str(licence.pk)
    ).exists()


# The data migration ----------------------------------------------------------------------------------------------


@pytest.fixture
def scratch_database(django_db_setup, django_db_blocker):
    """A connection to an empty schema of the test database, for migrating one app's chain from its start: far
    faster than unapplying and reapplying every app's migrations, and the test database's tables stay as they
    were. (A schema, not a database: dropping a database waits for a checkpoint.)"""
    alias = schema = "migration_scratch"
    options = {**connection.settings_dict["OPTIONS"], "options": f"-c search_path={schema}"}
    connections.settings[alias] = {**connection.settings_dict, "OPTIONS": options}
    with django_db_blocker.unblock():
        scratch = connections[alias]
        try:
            with scratch.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            yield scratch
        finally:
            with scratch.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            scratch.close()
            del connections[alias]
            del connections.settings[alias]


def old_chain_executor(connection):
    """An executor on the migrations as a database that began before the squash goes through them: a fresh
    database runs the squashed migration, which leaves out the backfills of existing rows."""
    executor = MigrationExecutor(connection)
    executor.loader = MigrationLoader(connection, replace_migrations=False)
    return executor


def test_the_data_migration_carries_each_single_licence_profile_into_the_credential_lists(db, scratch_database):
    """...and (0005) the clinicians who practised before the network's approval existed stay approved."""
    alias = scratch_database.alias
    executor = old_chain_executor(scratch_database)
    before = [("accounts", "0001_initial")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("accounts", "User").objects.using(alias).create(email="old.md@example.test", role="prescriber")
    old.get_model("accounts", "ClinicianProfile").objects.using(alias).create(
        user=user,
        licence_state="OR",
        licence_number="MD-00042",
        licence_expires=date(2031, 1, 31),
        npi="1000000042",
        dea_number="BO1234563",
        kap_training_completed=date(2024, 3, 1),
    )

    executor = old_chain_executor(scratch_database)
    executor.migrate([("accounts", "0005_clinician_approval")])

    licence = Licence.objects.using(alias).get(clinician_id=user.pk)
    assert (licence.state, licence.number, licence.expires_on) == ("OR", "MD-00042", date(2031, 1, 31))
    dea = DEARegistration.objects.using(alias).get(clinician_id=user.pk)
    assert (dea.state, dea.number, dea.expires_on) == ("OR", "BO1234563", date(2031, 1, 31))
    assert KAPTraining.objects.using(alias).get(clinician_id=user.pk).completed_on == date(2024, 3, 1)
    profile = User.objects.using(alias).get(pk=user.pk).clinician_profile
    assert profile.npi == "1000000042"
    assert profile.is_approved
    assert licence.is_verified and "before the network verified" in licence.verification_note


def test_the_credentials_page_shows_each_clinician_their_own_and_the_coordinator_the_groups(
    client, therapist_a, therapist_b, prescriber, coordinator, patient, outside_world
):
    client.force_login(therapist_a)
    own = client.get("/clinicians/credentials/").content.decode()
    assert str(therapist_a) in own and str(prescriber) not in own
    assert "Record a referral exception" not in own

    client.force_login(coordinator)
    group = client.get("/clinicians/credentials/").content.decode()
    for clinician in (therapist_a, therapist_b, prescriber):
        assert str(clinician) in group
    assert str(outside_world["therapist"]) not in group
    assert "no DEA" not in group and "None on file" not in group
    assert AuditEvent.objects.filter(actor=coordinator, action="read", object_id=str(prescriber.pk)).exists()

    client.force_login(patient)
    assert client.get("/clinicians/credentials/").status_code == 403


def test_linking_a_referral_to_a_patient_in_another_state_needs_the_therapists_licence_there(
    api, client, therapist_b, coordinator, patient_a2
):
    """The referral's other door: therapist B, licensed in California only, refers a California client whose
    address is that of patient A2, who lives in Oregon. Linking would put B on an Oregon patient's team."""
    from patients import services

    therapist_b.licences.filter(state="OR").delete()
    details = {**REFERRAL, "state": "CA", "email": patient_a2.email, "date_of_birth": date(1987, 7, 7)}
    entry = services.patient_refer(actor=therapist_b, invite=False, **details)

    refused = api.as_user(coordinator).post(f"/api/v1/referral-reconciliations/{entry.pk}/link/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "referrer_licence"
    assert "no licence in Oregon on file" in refused.json()["detail"]
    client.force_login(coordinator)
    page = client.post(f"/reconciliations/{entry.pk}/link/", {"note": "Same person."}, follow=True)
    assert "no licence in Oregon on file" in page.content.decode()
    assert not patient_a2.care_team.filter(clinician=therapist_b).exists()

    exception = {"state": "OR", "reason": "Licensed under the counseling compact; checked today."}
    assert client.post(f"/clinicians/{therapist_b.pk}/referral-exceptions/", exception).status_code == 302
    allowed = api.as_user(coordinator).post(f"/api/v1/referral-reconciliations/{entry.pk}/link/", {}, format="json")
    assert allowed.status_code == 200, allowed.content
    assert patient_a2.care_team.filter(clinician=therapist_b).exists()


def test_moving_the_patient_to_a_state_needs_the_therapists_licence_there_too(
    api, client, therapist_a, prescriber, coordinator, patient_a
):
    """Referred in California, then moved: a therapist licensed in California only would treat an Oregon
    client without ever being asked."""
    Licence.objects.create(
        clinician=prescriber, state="OR", number="OR-1", expires_on=date(2099, 12, 31), verified_at=timezone.now()
    )
    therapist_a.licences.filter(state="OR").delete()
    url = f"/api/v1/patients/{patient_a.pk}/"

    refused = api.as_user(coordinator).patch(url, {"state": "OR"}, format="json")
    assert refused.status_code == 400
    assert "therapist" in refused.json()["state"][0] and "not licensed there" in refused.json()["state"][0]
    patient_a.refresh_from_db()
    assert patient_a.state == "CA"

    client.force_login(coordinator)
    exception = {"state": "OR", "reason": "Licensed under the counseling compact; checked today."}
    assert client.post(f"/clinicians/{therapist_a.pk}/referral-exceptions/", exception).status_code == 302
    allowed = api.as_user(coordinator).patch(url, {"state": "OR"}, format="json")
    assert allowed.status_code == 200, allowed.content

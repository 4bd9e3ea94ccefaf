"""Supervision of prescribers (issue 18 points 1-2): the policy picks signed records at its edges, the supervisor
reviews through a grant limited to the picked record, and a "disagree" waits for the prescriber's acknowledgement."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import ScreeningFlag, Severity
from assessments.questionnaires.services import questionnaire_submit
from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from messaging.models import Notification
from network.supervision import selectors, services
from network.supervision.models import SupervisionAssignment, SupervisionCase, SupervisionPolicy
from network.supervision.tasks import select_for_supervision
from patients import services as patient_services
from tests.course_states import EVALUATION, ready_for_evaluation, sign_consents, signed_dose_plan, signed_evaluation
from tests.factories import INTAKE_ANSWERS, UserFactory, enrol_totp
from tests.fixtures import refer
from treatment.adverse_events import services as adverse_event_services
from treatment.course import services as course_services

Reason = SupervisionCase.Reason
pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(medical_group):
    user = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="supervisor@example.test")
    enrol_totp(user)
    return user


@pytest.fixture
def supervised(coordinator, prescriber, supervisor):
    services.supervisor_assign(actor=coordinator, prescriber=prescriber, supervisor=supervisor)
    return prescriber


def policy(medical_group, **values):
    return SupervisionPolicy.objects.create(medical_group=medical_group, **values)


def evaluated(therapist, prescriber, coordinator, n):
    """n patients, each with a signed evaluation, signed one after the other."""
    patients = []
    for i in range(n):
        patient = refer(therapist, "Pat", f"Number{i}", f"pat{i}@example.test", account=True)
        patient_services.prescriber_assign(actor=coordinator, patient=patient, prescriber=prescriber)
        ready_for_evaluation(patient)
        with time_machine.travel(timezone.now() + timedelta(minutes=i)):
            signed_evaluation(prescriber, patient)
        patients.append(patient)
    return patients


def case_of(patient, kind=SupervisionCase.Kind.EVALUATION):
    return SupervisionCase.objects.get(patient=patient, kind=kind)


def test_the_first_n_patients_are_picked_and_the_next_is_not(
    medical_group, therapist_a, coordinator, supervised, supervisor
):
    policy(medical_group, first_patients=2, sample_percent=0)
    patients = evaluated(therapist_a, supervised, coordinator, 3)

    assert services.supervision_reconcile() == 3
    assert [case_of(p).reason for p in patients] == [Reason.FIRST_PATIENTS, Reason.FIRST_PATIENTS, Reason.NOT_PICKED]
    assert case_of(patients[0]).supervisor == supervisor
    assert case_of(patients[2]).supervisor is None
    assert services.supervision_reconcile() == 0  # each record considered once


@pytest.mark.celery_eager
def test_signing_puts_the_record_in_the_supervisors_queue_at_once_and_only_once(
    medical_group, therapist_a, coordinator, supervised, supervisor, client, django_capture_on_commit_callbacks
):
    policy(medical_group, first_patients=1, mg_per_kg_threshold=Decimal("2.00"))
    patient = refer(therapist_a, "Pat", "First", "pat.first@example.test", account=True)
    patient_services.prescriber_assign(actor=coordinator, patient=patient, prescriber=supervised)
    ready_for_evaluation(patient)
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = signed_evaluation(supervised, patient)

    assert [(case.record_id, case.reason) for case in selectors.queue(supervisor)] == [
        (evaluation.pk, Reason.FIRST_PATIENTS)
    ]
    client.force_login(supervisor)
    assert b"One of the prescriber" in client.get(reverse("network:supervision")).content
    select_for_supervision("evaluation", str(evaluation.pk))  # the message delivered twice
    assert services.supervision_reconcile() == 0  # and the beat finds nothing left to consider
    assert SupervisionCase.objects.filter(record_id=evaluation.pk).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        plan = signed_dose_plan(supervised, patient, full_dose_mg=Decimal("170.0"))  # 2.125 mg/kg at 80 kg
    assert SupervisionCase.objects.get(record_id=plan.pk).reason == Reason.MG_PER_KG
    assert selectors.queue(supervisor).count() == 2


def test_with_every_evaluation_sampled_the_patient_after_the_first_n_is_picked_as_sampled(
    medical_group, therapist_a, coordinator, supervised
):
    policy(medical_group, first_patients=1, sample_percent=100)
    patients = evaluated(therapist_a, supervised, coordinator, 2)
    services.supervision_reconcile()

    assert [case_of(p).reason for p in patients] == [Reason.FIRST_PATIENTS, Reason.SAMPLED]


def test_sampling_is_reproducible_and_follows_the_percentage_and_the_seed(medical_group):
    ids = [uuid.UUID(int=i * 7919) for i in range(1, 401)]
    thirty = SupervisionPolicy(medical_group=medical_group, sample_percent=30, sample_seed="2026")

    first = [services.is_sampled(thirty, i) for i in ids]
    assert first == [services.is_sampled(thirty, i) for i in ids]
    assert 80 <= sum(first) <= 160
    reseeded = SupervisionPolicy(medical_group=medical_group, sample_percent=30, sample_seed="other")
    assert [services.is_sampled(reseeded, i) for i in ids] != first
    assert not any(services.is_sampled(SupervisionPolicy(sample_percent=0), i) for i in ids)
    assert all(services.is_sampled(SupervisionPolicy(sample_percent=100), i) for i in ids)


def test_a_prescriber_without_a_supervisor_has_nothing_picked_until_one_is_assigned(
    medical_group, therapist_a, coordinator, prescriber, supervisor
):
    policy(medical_group, first_patients=5)
    (patient,) = evaluated(therapist_a, prescriber, coordinator, 1)
    assert services.supervision_reconcile() == 0

    services.supervisor_assign(actor=coordinator, prescriber=prescriber, supervisor=supervisor)
    assert services.supervision_reconcile() == 1
    assert case_of(patient).reason == Reason.FIRST_PATIENTS


def test_dose_plans_are_picked_above_the_mg_per_kg_threshold_not_at_it(
    medical_group, therapist_a, coordinator, supervised
):
    policy(medical_group, first_patients=0, sample_percent=0, mg_per_kg_threshold=Decimal("2.50"))
    (patient,) = evaluated(therapist_a, supervised, coordinator, 1)  # weighs 80 kg
    at_threshold = signed_dose_plan(supervised, patient, full_dose_mg=Decimal("200.0"))
    above = signed_dose_plan(supervised, patient, full_dose_mg=Decimal("201.0"))
    services.supervision_reconcile()

    kind = SupervisionCase.Kind.DOSE_PLAN
    assert SupervisionCase.objects.get(kind=kind, record_id=at_threshold.pk).reason == Reason.NOT_PICKED
    assert SupervisionCase.objects.get(kind=kind, record_id=above.pk).reason == Reason.MG_PER_KG


def test_a_dose_increase_is_picked_above_the_percentage_not_at_it(medical_group, therapist_a, coordinator, supervised):
    policy(medical_group, first_patients=0, sample_percent=0, mg_per_kg_threshold=9, dose_increase_percent=25)
    (patient,) = evaluated(therapist_a, supervised, coordinator, 1)
    plans = [signed_dose_plan(supervised, patient, full_dose_mg=Decimal(mg)) for mg in ("100", "125", "157")]
    services.supervision_reconcile()

    reasons = [SupervisionCase.objects.get(record_id=plan.pk).reason for plan in plans]
    assert reasons == [Reason.NOT_PICKED, Reason.NOT_PICKED, Reason.DOSE_INCREASE]


@pytest.fixture
def picked(medical_group, therapist_a, coordinator, supervised):
    policy(medical_group, first_patients=1, review_days=7)
    (patient,) = evaluated(therapist_a, supervised, coordinator, 1)
    services.supervision_reconcile()
    return case_of(patient)


def test_the_supervisor_reads_the_picked_record_and_the_access_history_says_supervision(
    client, picked, supervisor, supervised
):
    client.force_login(supervisor)
    page = client.get(reverse("network:supervision-case", args=[picked.pk]))

    assert page.status_code == 200
    assert b"Recurrent MDD" in page.content
    read = AuditEvent.objects.get(actor=supervisor, patient=picked.patient, object_type="assessments.evaluation")
    assert read.detail == {"via": "supervision", "case": str(picked.pk)}

    client.force_login(supervised)
    history = client.get(reverse("records:patient-access-history", args=[picked.patient_id]))
    assert b"(supervision read)" in history.content


def test_a_supervisor_reaches_no_patient_and_no_case_outside_their_grants(
    client, api, picked, supervisor, medical_group, patient_a
):
    client.force_login(supervisor)
    assert client.get(f"/api/v1/patients/{picked.patient_id}/").status_code == 404
    assert client.get(f"/api/v1/patients/{patient_a.pk}/").status_code == 404

    other = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="other.sup@example.test")
    enrol_totp(other)
    client.force_login(other)
    assert client.get(reverse("network:supervision-case", args=[picked.pk])).status_code == 404
    assert api.as_user(other).get(f"/api/v1/network/supervision/cases/{picked.pk}/").status_code == 404
    assert not AuditEvent.objects.filter(actor=other, object_type="assessments.evaluation").exists()


def test_a_disagree_needs_a_comment_and_the_prescribers_acknowledgement(client, picked, supervisor, supervised):
    url = reverse("network:supervision-case", args=[picked.pk])
    client.force_login(supervisor)
    assert client.post(url, {"verdict": "disagree", "comment": " "}).status_code == 400
    assert client.post(url, {"verdict": "disagree", "comment": "The BP was high: recheck."}).status_code == 302
    assert client.post(url, {"verdict": "agree"}).status_code == 400  # reviewed once
    assert client.post(url, {"action": "acknowledge"}).status_code == 403  # not the supervisor's to acknowledge

    client.force_login(supervised)
    assert b"needs your acknowledgement" in client.get(reverse("network:supervision")).content
    assert client.post(url, {"verdict": "agree"}).status_code == 403  # the prescriber cannot review their own work
    assert client.post(url, {"action": "acknowledge"}).status_code == 302
    picked.refresh_from_db()
    assert (picked.verdict, picked.comment) == ("disagree", "The BP was high: recheck.")
    assert picked.acknowledged_at is not None
    assert b"needs your acknowledgement" not in client.get(reverse("network:supervision")).content


def test_the_api_reviews_and_acknowledges(api, picked, supervisor, supervised):
    base = f"/api/v1/network/supervision/cases/{picked.pk}/"
    assert api.as_user(supervised).post(f"{base}acknowledge/").status_code == 400  # not reviewed yet
    as_supervisor = api.as_user(supervisor)
    assert [c["id"] for c in as_supervisor.get("/api/v1/network/supervision/cases/").json()["results"]] == [
        str(picked.pk)
    ]
    assert as_supervisor.post(f"{base}review/", {"verdict": "maybe"}, format="json").status_code == 400
    review = {"verdict": "discuss", "comment": "Talk on Tuesday."}
    reviewed = as_supervisor.post(f"{base}review/", review, format="json")
    assert reviewed.status_code == 200
    assert reviewed.json()["verdict"] == "discuss"
    assert api.as_user(supervised).post(f"{base}acknowledge/").json()["acknowledged_at"] is not None


def test_overdue_reviews_are_listed_for_the_coordinator(client, picked, coordinator, patient_a):
    client.force_login(coordinator)
    assert b"Overdue reviews" not in client.get(reverse("network:supervision")).content
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        client.force_login(coordinator)
        assert b"Overdue reviews" in client.get(reverse("network:supervision")).content


def test_a_supervisor_is_never_supervised_by_their_own_supervisee(coordinator, supervised, supervisor):
    with pytest.raises(ValidationError, match="own supervisee"):
        services.supervisor_assign(actor=coordinator, prescriber=supervisor, supervisor=supervised)
    with pytest.raises(ValidationError, match="themself"):
        services.supervisor_assign(actor=coordinator, prescriber=supervised, supervisor=supervised)


def test_only_a_coordinator_assigns_supervisors(supervised, supervisor):
    with pytest.raises(PermissionDenied):
        services.supervisor_assign(actor=supervised, prescriber=supervisor, supervisor=supervised)


def test_an_eligible_evaluation_over_a_dismissed_absolute_flag_is_picked(
    medical_group, patient_a, supervised, coordinator
):
    policy(medical_group, first_patients=0, sample_percent=0)
    sign_consents(patient_a)
    intake = {**INTAKE_ANSWERS, "bp_systolic": 186, "bp_diastolic": 106}
    assessment_services.intake_submit(actor=patient_a.user, patient=patient_a, data=intake, medications=[])
    flags = ScreeningFlag.objects.filter(intake__patient=patient_a)
    assert Severity.ABSOLUTE in {flag.severity for flag in flags}
    reviews = [{"flag": flag.pk, "outcome": "dismissed", "reason": "160/95 on three rechecks."} for flag in flags]
    draft = assessment_services.evaluation_save_draft(
        actor=supervised, patient=patient_a, data=EVALUATION, flag_reviews=reviews
    )
    course_services.evaluation_sign_and_advance_course(actor=supervised, evaluation=draft)
    services.supervision_reconcile()

    assert case_of(patient_a).reason == Reason.DISMISSED_ABSOLUTE_FLAG


def discharged(prescriber, patient, decision):
    follow_up, _created = course_services.follow_up_start(actor=prescriber, patient=patient)
    note = {"symptoms": "Worse.", "side_effects": "See the report.", "decision": decision, "rationale": "Stop."}
    follow_up = course_services.follow_up_save_draft(actor=prescriber, follow_up=follow_up, data=note)
    return course_services.follow_up_sign(actor=prescriber, follow_up=follow_up)


def test_a_discontinuation_after_an_adverse_event_is_picked_a_completion_is_not(
    medical_group, patient_a, patient_b, therapist_a, therapist_b, supervised
):
    policy(medical_group, first_patients=0, sample_percent=0)
    for patient in (patient_a, patient_b):
        ready_for_evaluation(patient)
        signed_evaluation(supervised, patient)
    adverse_event_services.adverse_event_report(actor=therapist_a, patient=patient_a, kind="nausea", severity="mild")
    adverse_event_services.adverse_event_report(actor=therapist_b, patient=patient_b, kind="nausea", severity="mild")
    stopped = discharged(supervised, patient_a, "discontinue")
    completed = discharged(supervised, patient_b, "complete")
    services.supervision_reconcile()

    assert SupervisionCase.objects.get(record_id=stopped.pk).reason == Reason.ADVERSE_EVENT
    assert SupervisionCase.objects.get(record_id=completed.pk).reason == Reason.NOT_PICKED


def test_therapists_and_patients_have_no_supervision_page(client, therapist_a, patient_a, picked):
    for user in (therapist_a, patient_a.user):
        client.force_login(user)
        assert client.get(reverse("network:supervision")).status_code == 403
        assert client.get(reverse("network:supervision-case", args=[picked.pk])).status_code == 403


def test_an_overdue_review_reminds_the_supervisor_then_the_coordinators_each_once(picked, supervisor, coordinator):
    today = picked.due_on
    assert services.supervision_remind_overdue(today=today) == (0, 0)  # due today: not late yet
    assert services.supervision_remind_overdue(today=today + timedelta(days=1)) == (1, 0)
    assert services.supervision_remind_overdue(today=today + timedelta(days=2)) == (0, 0)
    assert services.supervision_remind_overdue(today=today + timedelta(days=8)) == (0, 1)
    assert services.supervision_remind_overdue(today=today + timedelta(days=9)) == (0, 0)

    overdue = Notification.objects.filter(kind="supervision_overdue")
    assert sorted(n.recipient.email for n in overdue) == [coordinator.email, supervisor.email]
    assert all(n.patient_id is None and str(picked.patient_id) not in n.url for n in overdue)


def test_the_prescriber_is_notified_of_a_review(picked, supervisor, supervised):
    services.supervision_review(actor=supervisor, case=picked, verdict="agree", comment="")

    assert Notification.objects.get(recipient=supervised).title == "Supervision feedback: agree"


def test_discuss_opens_a_thread_between_supervisor_and_prescriber_only(client, api, picked, supervisor, supervised):
    url = reverse("network:supervision-case", args=[picked.pk])
    client.force_login(supervised)
    assert client.post(url, {"action": "comment", "body": "Can we talk?"}).status_code == 400  # not "discuss"

    client.force_login(supervisor)
    client.post(url, {"verdict": "discuss", "comment": "The titration pace."})
    assert client.post(url, {"action": "comment", "body": "Tuesday at 5?"}).status_code == 302
    base = f"/api/v1/network/supervision/cases/{picked.pk}/comment/"
    answer = api.as_user(supervised).post(base, {"body": "Works for me."}, format="json")
    assert answer.status_code == 201
    page = client.get(url)
    assert b"Tuesday at 5?" in page.content and b"Works for me." in page.content
    assert Notification.objects.filter(kind="supervision_thread", recipient=supervisor).count() == 1


def context_url(case, kind, record):
    return reverse("network:supervision-context-record", args=[case.pk, kind, record.pk])


def test_the_grant_opens_the_records_course_read_only_and_nothing_of_another_course_or_patient(
    client, api, picked, supervisor, supervised, therapist_a, patient_a
):
    patient = picked.patient
    evaluation = patient.evaluations.get()
    questionnaire_submit(actor=patient.user, patient=patient, instrument="gad7", answers=[2] * 7)
    plan = signed_dose_plan(supervised, patient)
    event = adverse_event_services.adverse_event_report(
        actor=therapist_a, patient=patient, kind="nausea", severity="mild"
    )
    discharge = discharged(supervised, patient, "discontinue")
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        questionnaire_submit(actor=patient.user, patient=patient, instrument="phq9", answers=[1] * 9)
        next_evaluation = signed_evaluation(supervised, patient)  # the next course
        next_plan = signed_dose_plan(supervised, patient)
    ready_for_evaluation(patient_a)
    other_patients = signed_evaluation(supervised, patient_a)

    client.force_login(supervisor)
    page = client.get(reverse("network:supervision-case", args=[picked.pk])).content.decode()
    for kind, record in (("dose_plan", plan), ("follow_up", discharge), ("adverse_event", event)):
        assert context_url(picked, kind, record) in page
        opened = client.get(context_url(picked, kind, record))
        assert opened.status_code == 200
    assert b"Mild" in client.get(context_url(picked, "adverse_event", event)).content
    assert "gad7" in page and "phq9" not in page  # this course's scores only
    assert str(next_plan.pk) not in page and str(next_evaluation.pk) not in page
    for kind, record in (
        ("dose_plan", next_plan),
        ("evaluation", next_evaluation),
        ("evaluation", other_patients),
        ("follow_up", plan),  # the wrong kind
    ):
        assert client.get(context_url(picked, kind, record)).status_code == 404
    # The grant is not the care team's access: the chart and the patient's API routes stay shut.
    for url in (f"/api/v1/evaluations/{evaluation.pk}/", f"/api/v1/patients/{patient.pk}/", f"/patients/{patient.pk}/"):
        assert client.get(url).status_code == 404

    context = api.as_user(supervisor).get(f"/api/v1/network/supervision/cases/{picked.pk}/context/").json()
    assert {r["id"] for r in context["records"]} == {str(r.pk) for r in (evaluation, plan, discharge, event)}
    assert [s["instrument"] for s in context["scores"]] == ["gad7"]
    assert api.as_user(supervised).get(f"/api/v1/network/supervision/cases/{picked.pk}/context/").status_code == 403

    reads = AuditEvent.objects.filter(actor=supervisor, patient=patient, outcome="allowed")
    assert reads.filter(object_type="treatment.doseplan").exists()
    assert not reads.exclude(detail__via="supervision").exists()  # every read went through the grant
    client.force_login(supervised)
    history = client.get(reverse("records:patient-access-history", args=[patient.pk])).content.decode()
    assert history.count("(supervision read)") >= 5


@pytest.mark.celery_eager
def test_signing_a_discontinuation_after_an_adverse_event_queues_it_at_once(
    medical_group, patient_a, therapist_a, supervised, supervisor, django_capture_on_commit_callbacks
):
    policy(medical_group, first_patients=0, sample_percent=0)
    ready_for_evaluation(patient_a)
    signed_evaluation(supervised, patient_a)
    adverse_event_services.adverse_event_report(actor=therapist_a, patient=patient_a, kind="nausea", severity="mild")
    with django_capture_on_commit_callbacks(execute=True):
        stopped = discharged(supervised, patient_a, "discontinue")

    assert [(case.record_id, case.reason) for case in selectors.queue(supervisor)] == [
        (stopped.pk, Reason.ADVERSE_EVENT)
    ]


def test_a_new_supervisor_takes_over_the_open_reviews_and_the_previous_one_loses_the_grant(
    client, picked, coordinator, supervised, supervisor, medical_group
):
    successor = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="successor@example.test")
    enrol_totp(successor)

    services.supervisor_assign(actor=coordinator, prescriber=supervised, supervisor=successor)

    assert SupervisionCase.objects.get(pk=picked.pk).supervisor == successor
    page = reverse("network:supervision-case", args=[picked.pk])
    client.force_login(supervisor)
    assert client.get(page).status_code == 404
    client.force_login(successor)
    assert client.get(page).status_code == 200


def test_the_admin_cannot_name_a_supervisor_around_the_coordinators_rules(client, supervised, supervisor, therapist_a):
    admin = UserFactory(role=User.Role.ADMIN, email="site.admin@example.test", is_staff=True, is_superuser=True)
    enrol_totp(admin)
    client.force_login(admin)
    assignment = SupervisionAssignment.objects.get(prescriber=supervised)
    add = "/admin/network/supervisionassignment/add/"
    change = f"/admin/network/supervisionassignment/{assignment.pk}/change/"

    responses = [
        client.post(add, {"prescriber": supervisor.pk, "supervisor": supervised.pk}),  # their own supervisee
        client.post(add, {"prescriber": therapist_a.pk, "supervisor": supervised.pk}),  # not a prescriber
        client.post(change, {"prescriber": supervised.pk, "supervisor": therapist_a.pk}),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert SupervisionAssignment.objects.get(pk=assignment.pk).supervisor == supervisor
    assert not SupervisionAssignment.objects.exclude(pk=assignment.pk).exists()

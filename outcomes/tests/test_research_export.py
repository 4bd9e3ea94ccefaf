"""The research export (issue 18 point 4): the re-identification test (no identifier column or value, no real date,
no value describing fewer than 11 patients), the task's progress, the audited and expiring download, and who may
ask for it."""

import csv
import io
from collections import defaultdict
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from outcomes import research, services
from outcomes.filters import Filters
from outcomes.models import ResearchExport, ResearchSubject
from patients.models import Patient
from treatment.models import TreatmentCourse

from . import cohort

IDENTIFIERS = {"name", "first_name", "last_name", "email", "phone", "date_of_birth", "patient", "patient_id", "id"}


@pytest.fixture
def network(therapist_a, medical_group):
    """60 patients of the group, and one 78-year-old in Hawaii whom only suppression hides."""
    patients = cohort.many_patients(60, therapist=therapist_a, medical_group=medical_group)
    rare = cohort.many_patients(1, therapist=therapist_a, medical_group=medical_group, prefix="rare")[0]
    Patient.objects.filter(pk=rare.pk).update(state="HI", date_of_birth=cohort.day(0).date() - timedelta(days=78 * 366))
    return [*patients, rare]


def _ready_export(client, coordinator, query=None):
    client.force_login(coordinator)
    url = reverse("outcomes:research-export-request") + (f"?{query}" if query else "")
    response = client.post(url)
    assert response.status_code == 302, response.content
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    export = ResearchExport.objects.get(requested_by=coordinator)
    assert export.status == ResearchExport.Status.QUEUED
    services.research_export_build(export_id=export.pk)  # the Celery task's work
    return ResearchExport.objects.get(pk=export.pk), token


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_cannot_single_out_a_patient(network, coordinator, client):
    export, token = _ready_export(client, coordinator)
    assert (export.status, export.progress, export.patient_count, export.row_count) == ("ready", 100, 61, 61)
    data = client.get(reverse("outcomes:research-export-download", args=[token, "data"]))
    assert data.status_code == 200 and data["Content-Type"].startswith("text/csv")
    text = data.content.decode()
    rows = _rows(text)

    # No identifier column, and no identifying value anywhere.
    assert set(rows[0]) == set(research.COLUMNS)
    assert not IDENTIFIERS & set(rows[0])
    for patient in network:
        for value in (str(patient.pk), patient.email, patient.first_name + ",", patient.date_of_birth.isoformat()):
            assert value not in text
    assert "load" not in text and "rare" not in text

    # A random study id per patient; every date shifted by the patient's secret offset, so no real date.
    subjects = {subject.study_id: subject for subject in ResearchSubject.objects.all()}
    real_starts = dict(TreatmentCourse.objects.values_list("patient_id", "started_at"))
    for row in rows:
        subject = subjects[row["study_id"]]
        assert subject.date_shift_days != 0
        real = real_starts[subject.patient_id].date()
        assert row["course_start"] != real.isoformat()
        assert row["course_start"] == (real + timedelta(days=subject.date_shift_days)).isoformat()
    assert len({row["study_id"] for row in rows}) == 61

    # No value of a column, nor combination of the quasi-identifiers, describes fewer than 11 patients.
    for column in set(research.COLUMNS) - set(research.NOT_SUPPRESSED):
        patients = defaultdict(set)
        for row in rows:
            patients[row[column]].add(row["study_id"])
        small = {value for value, who in patients.items() if len(who) < 11 and value not in ("", research.SUPPRESSED)}
        assert not small, (column, small)
    combinations = defaultdict(set)
    for row in rows:
        combinations[tuple(row[name] for name in research.QUASI_IDENTIFIERS)].add(row["study_id"])
    assert all(len(who) >= 11 or set(key) == {research.SUPPRESSED} for key, who in combinations.items()), combinations
    # The Hawaiian 78-year-old: the state is only its region, shared by 16; the age band of 6 is withheld. What all
    # 61 patients share is kept.
    rare = next(row for row in rows if subjects[row["study_id"]].patient_id == network[-1].pk)
    assert (rare["age_band"], rare["region"]) == (research.SUPPRESSED, "West")
    assert "HI" not in {row["region"] for row in rows}
    assert {row["outcome"] for row in rows} == {"ongoing"} and {row["dosing_sessions"] for row in rows} == {"2"}
    assert {row["referral_reasons"] for row in rows} == {"trd"}

    dictionary = _rows(
        client.get(reverse("outcomes:research-export-download", args=[token, "dictionary"])).content.decode()
    )
    assert [row["column"] for row in dictionary][: len(research.COLUMNS)] == research.COLUMNS


def test_a_patient_keeps_their_study_id_and_shift_across_exports(network, coordinator):
    courses = TreatmentCourse.objects.all()
    first, _ids = research.dataset(courses)
    second, _ids = research.dataset(courses)
    assert [row["study_id"] for row in first] == [row["study_id"] for row in second]
    assert [row["course_start"] for row in first] == [row["course_start"] for row in second]
    assert ResearchSubject.objects.count() == 61


def test_downloads_are_audited_and_the_link_expires(network, coordinator, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        export, token = _ready_export(client, coordinator)
    system_reads = AuditEvent.objects.filter(actor=None, action="read", patient__isnull=False)
    assert system_reads.count() == 61  # each patient's access history shows the research read
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        client.force_login(coordinator)  # signed in again: a session lasts less than a day
        assert client.get(reverse("outcomes:research-export", args=[token])).status_code == 200
        assert client.get(reverse("outcomes:research-export-download", args=[token, "data"])).status_code == 200
    downloads = AuditEvent.objects.filter(
        object_type="outcomes.researchexport", object_id=str(export.pk), action="read"
    )
    assert downloads.filter(actor=coordinator, outcome="allowed").count() == 1
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        client.force_login(coordinator)
        gone = client.get(reverse("outcomes:research-export-download", args=[token, "data"]))
    assert gone.status_code == 410
    export.refresh_from_db()
    assert export.data_csv == "" and export.purged_at is not None
    assert downloads.filter(outcome="denied").count() == 1


def test_only_the_requester_reaches_the_link(network, coordinator, outside_world, client):
    _export, token = _ready_export(client, coordinator)
    client.force_login(outside_world["coordinator"])
    assert client.get(reverse("outcomes:research-export", args=[token])).status_code == 404
    assert client.get(reverse("outcomes:research-export-download", args=[token, "data"])).status_code == 404
    assert client.get(reverse("outcomes:research-export", args=["forged"])).status_code == 404


def test_a_coordinator_who_changes_role_loses_the_link(network, coordinator, client):
    _export, token = _ready_export(client, coordinator)
    User.objects.filter(pk=coordinator.pk).update(role=User.Role.THERAPIST)
    assert client.get(reverse("outcomes:research-export-download", args=[token, "data"])).status_code == 404


def test_clinicians_and_patients_cannot_ask_for_it(cast, client, api):
    for name in ("therapist_a", "prescriber", "patient"):
        client.force_login(cast[name])
        assert client.post(reverse("outcomes:research-export-request")).status_code == 403
        api.force_authenticate(cast[name])
        assert api.post("/api/v1/research-exports/").status_code == 403
    assert not ResearchExport.objects.exists()


def test_fewer_than_11_patients_is_refused_and_bad_filters_are_400(network, coordinator, client, api):
    client.force_login(coordinator)
    assert client.post(reverse("outcomes:research-export-request") + "?reason=ocd").status_code == 409
    assert client.post(reverse("outcomes:research-export-request") + "?from=soon").status_code == 400
    api.force_authenticate(coordinator)
    refused = api.post("/api/v1/research-exports/?reason=ocd")
    assert refused.status_code == 409 and refused.json()["code"] == "export_too_few_patients"
    assert not ResearchExport.objects.exists()
    accepted = api.post("/api/v1/research-exports/?reason=trd")
    assert accepted.status_code == 202 and accepted.json()["status"] == "queued"
    again = api.post("/api/v1/research-exports/")
    assert again.status_code == 409 and again.json()["code"] == "export_in_progress"


def test_the_build_follows_the_requesters_access_now(network, coordinator, client):
    export, _token = services.research_export_request(actor=coordinator, filters=Filters())
    coordinator.is_active = False
    coordinator.save(update_fields=["is_active"])
    assert services.research_export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == ResearchExport.Status.FAILED and export.data_csv == ""
    assert services.research_export_build(export_id=export.pk) is None  # delivered twice: nothing more

"""Training and CEUs (issue 17, point 3): certificates reach only their owner and the coordinators, uploads are
checked by content and size, a verified KAP training completion lets a clinician practise, and the transcript
adds up hours per year and names what is missing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kapcare.accounts import credentials
from kapcare.accounts.models import Licence, User
from kapcare.audit.models import AuditEvent
from network.consultation import services as consultation_services
from network.training import selectors, services
from network.training.models import Enrolment

from .factories import UserFactory, enrol_totp
from .network_states import PDF, PNG, completed, course, group, past_meeting, pdf


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "public"


@pytest.fixture
def certificate_of_a(coordinator, therapist_a):
    return completed(therapist_a, course(coordinator, kap=True))


def _web(client, user, url):
    client.logout()
    if user.is_authenticated:
        client.force_login(user)
    return client.get(url)


def test_a_certificate_is_stored_outside_public_media_and_has_no_url(settings, certificate_of_a):
    path = certificate_of_a.certificate.path

    assert path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(NotImplementedError):
        certificate_of_a.certificate.url  # noqa: B018


@pytest.mark.parametrize("role", ["therapist_a", "coordinator"])
def test_the_owner_and_the_coordinator_download_the_certificate(client, api, cast, certificate_of_a, role):
    web = _web(client, cast[role], f"/network/training/enrolments/{certificate_of_a.pk}/certificate/")
    by_api = api.as_user(cast[role]).get(f"/api/v1/network/enrolments/{certificate_of_a.pk}/certificate/")

    for response in (web, by_api):
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("role", ["therapist_b", "prescriber", "patient", "other_patient", "admin"])
def test_nobody_else_reaches_a_certificate(client, api, cast, certificate_of_a, role):
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count()

    web = _web(client, cast[role], f"/network/training/enrolments/{certificate_of_a.pk}/certificate/")
    by_api = api.as_user(cast[role]).get(f"/api/v1/network/enrolments/{certificate_of_a.pk}/certificate/")

    assert web.status_code == by_api.status_code == 404
    assert PDF not in web.content and PDF not in by_api.content
    assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).count() == denied_before + 2


def test_a_coordinator_of_another_medical_group_gets_404(client, outside_world, certificate_of_a):
    response = _web(
        client, outside_world["coordinator"], f"/network/training/enrolments/{certificate_of_a.pk}/certificate/"
    )

    assert response.status_code == 404


def test_a_visitor_is_sent_to_sign_in_and_the_api_answers_401(client, api, anonymous, certificate_of_a):
    web = _web(client, anonymous, f"/network/training/enrolments/{certificate_of_a.pk}/certificate/")
    by_api = api.as_user(anonymous).get(f"/api/v1/network/enrolments/{certificate_of_a.pk}/certificate/")

    assert web.status_code == 302 and web["Location"].startswith("/accounts/login/")
    assert by_api.status_code == 401


@pytest.mark.parametrize("guess", ["6d6d032d-625d-4277-a8a1-5a3f99ca08e6", "1", "../../etc/passwd", "certificates"])
def test_a_guessed_id_or_path_is_404(client, therapist_a, certificate_of_a, guess):
    client.force_login(therapist_a)

    assert client.get(f"/network/training/enrolments/{guess}/certificate/").status_code == 404
    assert client.get(f"/api/v1/network/enrolments/{guess}/certificate/").status_code == 404
    assert client.get(f"/media/{certificate_of_a.certificate.name}").status_code == 404
    assert client.get(f"/private/{certificate_of_a.certificate.name}").status_code == 404


def _complete_by_api(api, therapist, enrolment, upload, completed_on=None):
    body = {
        "completed_on": (completed_on or timezone.localdate()).isoformat(),
        "certificate_number": "CERT-9",
        "certificate": upload,
    }
    return api.as_user(therapist).post(
        f"/api/v1/network/enrolments/{enrolment.pk}/complete/", data=body, format="multipart"
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("certificate.pdf", b"MZ\x90\x00 a Windows program", "application/pdf"), "PDF, PNG or JPEG"),
        (SimpleUploadedFile("certificate.png", b"<svg onload=alert(1)>", "image/png"), "PDF, PNG or JPEG"),
        (SimpleUploadedFile("certificate.pdf", b"", "application/pdf"), "empty"),
        (SimpleUploadedFile("certificate.pdf", PDF + b"x" * 2048, "application/pdf"), "larger than"),
    ],
    ids=["executable named .pdf", "svg named .png", "empty", "too large"],
)
def test_a_certificate_that_is_not_a_small_pdf_png_or_jpeg_is_refused(
    api, settings, coordinator, therapist_a, upload, message
):
    settings.CERTIFICATE_MAX_BYTES = 1024
    enrolment = services.enrolment_create(actor=therapist_a, course=course(coordinator))

    response = _complete_by_api(api, therapist_a, enrolment, upload)

    assert response.status_code == 400
    assert message in str(response.json()["certificate"])
    enrolment.refresh_from_db()
    assert enrolment.completed_on is None and not enrolment.certificate
    assert not list((settings.PRIVATE_MEDIA_ROOT).rglob("*.*")) if settings.PRIVATE_MEDIA_ROOT.exists() else True


def test_the_web_form_refuses_a_bad_file_with_400(client, coordinator, therapist_a):
    enrolment = services.enrolment_create(actor=therapist_a, course=course(coordinator))
    client.force_login(therapist_a)
    body = {
        "completed_on": timezone.localdate().isoformat(),
        "certificate_number": "CERT-1",
        "certificate": SimpleUploadedFile("c.pdf", b"#!/bin/sh\nrm -rf /", "application/pdf"),
    }

    response = client.post(f"/network/training/enrolments/{enrolment.pk}/complete/", body)

    assert response.status_code == 400
    assert "PDF, PNG or JPEG" in response.content.decode()
    assert not Enrolment.objects.get(pk=enrolment.pk).certificate


def test_a_png_certificate_is_accepted_by_its_content(api, coordinator, therapist_a):
    enrolment = services.enrolment_create(actor=therapist_a, course=course(coordinator))

    response = _complete_by_api(api, therapist_a, enrolment, SimpleUploadedFile("scan.pdf", PNG, "application/pdf"))

    assert response.status_code == 200, response.content
    enrolment.refresh_from_db()
    assert enrolment.certificate_type == "image/png" and enrolment.certificate.name.endswith(".png")


def test_a_completion_in_the_future_is_refused(api, coordinator, therapist_a):
    enrolment = services.enrolment_create(actor=therapist_a, course=course(coordinator))

    response = _complete_by_api(api, therapist_a, enrolment, pdf(), timezone.localdate() + timedelta(days=1))

    assert response.status_code == 400
    assert "future" in str(response.json()["completed_on"])


def test_enrolling_twice_is_refused(api, coordinator, therapist_a):
    kap = course(coordinator)
    client = api.as_user(therapist_a)

    first = client.post("/api/v1/network/enrolments/", {"course": str(kap.pk)}, format="json")
    second = client.post("/api/v1/network/enrolments/", {"course": str(kap.pk)}, format="json")

    assert first.status_code == 201
    assert second.status_code == 400
    assert Enrolment.objects.filter(clinician=therapist_a).count() == 1


# A verified completion of the network's KAP training is what lets an untrained clinician practise.


@pytest.fixture
def untrained_prescriber(medical_group):
    from kapcare.accounts.models import ClinicianProfile, DEARegistration

    prescriber = UserFactory(role=User.Role.PRESCRIBER, organization=medical_group, email="new.prescriber@example.test")
    ClinicianProfile.objects.create(user=prescriber, approved_at=timezone.now())  # approved by the network (issue 17)
    verified = {"expires_on": date(2099, 1, 1), "verified_at": timezone.now()}  # and its credentials checked
    Licence.objects.create(clinician=prescriber, state="CA", number="NEW-1", **verified)
    DEARegistration.objects.create(clinician=prescriber, state="CA", number="BN1234567", **verified)
    enrol_totp(prescriber)
    return prescriber


def test_verifying_the_kap_training_lets_the_clinician_sign(api, coordinator, untrained_prescriber):
    kap = course(coordinator, kap=True, required_for="clinician")
    assert credentials.missing_to_sign(untrained_prescriber, "CA") == ["no KAP training recorded"]

    enrolment = completed(untrained_prescriber, kap, number="KAP-77")
    assert credentials.missing_to_sign(untrained_prescriber, "CA") == ["no KAP training recorded"]  # not yet verified

    response = api.as_user(coordinator).post(f"/api/v1/network/enrolments/{enrolment.pk}/verify/")

    assert response.status_code == 200, response.content
    assert credentials.missing_to_sign(untrained_prescriber, "CA") == []
    training = untrained_prescriber.kap_trainings.get()
    assert (training.title, training.certificate_number) == ("KAP foundations", "KAP-77")


def test_a_clinician_cannot_verify_their_own_completion(api, coordinator, untrained_prescriber):
    enrolment = completed(untrained_prescriber, course(coordinator, kap=True))

    response = api.as_user(untrained_prescriber).post(f"/api/v1/network/enrolments/{enrolment.pk}/verify/")

    assert response.status_code == 403
    assert not untrained_prescriber.kap_trainings.exists()


def test_verifying_twice_or_before_completion_is_refused_naming_the_rule(api, coordinator, therapist_a):
    done = completed(therapist_a, course(coordinator, kap=True))
    pending = services.enrolment_create(actor=therapist_a, course=course(coordinator, title="Integration"))
    client = api.as_user(coordinator)

    client.post(f"/api/v1/network/enrolments/{done.pk}/verify/")
    again = client.post(f"/api/v1/network/enrolments/{done.pk}/verify/")
    early = client.post(f"/api/v1/network/enrolments/{pending.pk}/verify/")

    assert again.status_code == early.status_code == 409
    assert again.json()["code"] == "enrolment_verified"
    assert early.json()["code"] == "enrolment_not_completed"


def test_a_verified_completion_no_longer_changes(api, coordinator, therapist_a):
    done = completed(therapist_a, course(coordinator))
    services.enrolment_verify(actor=coordinator, enrolment=done)

    response = _complete_by_api(api, therapist_a, done, pdf())

    assert response.status_code == 409


# The transcript: hours per calendar year, the target, and the required courses missing.


def test_the_transcript_adds_hours_per_year_and_names_what_is_missing(
    settings, coordinator, therapist_a, prescriber, time_machine
):
    settings.NETWORK_CE_HOURS_PER_YEAR = 12
    time_machine.move_to(timezone.make_aware(timezone.datetime(2026, 6, 15, 12)), tick=False)
    kap = course(coordinator, title="KAP foundations", hours="10.00", kap=True, required_for="clinician")
    ethics = course(coordinator, title="Ethics of touch", hours="3.00", required_for="therapist")
    course(coordinator, title="Prescribing ketamine", hours="4.00", required_for="prescriber")
    elective = course(coordinator, title="Music in sessions", hours="2.00")
    for enrolment in (completed(therapist_a, kap, on=date(2025, 11, 3)), completed(therapist_a, elective)):
        services.enrolment_verify(actor=coordinator, enrolment=enrolment)
    completed(therapist_a, ethics)  # not verified yet: no hours, still missing
    peers = group(coordinator, prescriber, therapist_a)
    meeting = past_meeting(prescriber, peers, ce_hours="1.50")
    consultation_services.attendance_record(actor=prescriber, meeting=meeting, attendees=[therapist_a])

    transcript = selectors.transcript(therapist_a)

    periods = {period.year: period for period in transcript.periods}
    assert sorted(periods) == [2025, 2026]
    assert (periods[2025].course_hours, periods[2025].consultation_hours) == (Decimal("10.00"), 0)
    assert periods[2026].course_hours == Decimal("2.00")
    assert periods[2026].consultation_hours == Decimal("1.50")
    assert periods[2026].missing_hours == Decimal("8.50")
    assert [c.title for c in transcript.missing] == ["Ethics of touch"]  # the prescribers' course is not asked


def test_the_transcript_page_and_api_show_the_same_figures(client, api, coordinator, therapist_a, therapist_b):
    services.enrolment_verify(actor=coordinator, enrolment=completed(therapist_a, course(coordinator, hours="7.25")))
    client.force_login(therapist_a)

    page = client.get("/network/training/transcript/")
    own = api.as_user(therapist_a).get(f"/api/v1/network/transcripts/{therapist_a.pk}/")
    coordinators = api.as_user(coordinator).get(f"/api/v1/network/transcripts/{therapist_a.pk}/")
    someone_else = api.as_user(therapist_b).get(f"/api/v1/network/transcripts/{therapist_a.pk}/")

    assert page.status_code == 200 and "7.25" in page.content.decode()
    assert own.status_code == coordinators.status_code == 200
    assert own.json()["periods"][0]["course_hours"] == "7.25"
    assert someone_else.status_code == 404


def test_the_catalogue_page_enrols_and_shows_the_coordinator_what_to_verify(
    client, coordinator, therapist_a, therapist_b, patient
):
    kap = course(coordinator, kap=True, required_for="clinician")
    completed(therapist_a, kap, number="KAP-5150")
    elective = course(coordinator, title="Music in sessions", hours="2.00")
    client.force_login(therapist_b)

    enrol = client.post(f"/network/training/courses/{elective.pk}/enrol/")
    page = client.get("/network/training/")
    client.force_login(coordinator)
    queue = client.get("/network/training/")
    client.force_login(patient)
    refused = client.get("/network/training/")

    assert enrol.status_code == 302 and Enrolment.objects.filter(clinician=therapist_b, course=elective).exists()
    assert page.status_code == 200 and "Record completion" in page.content.decode()
    assert "KAP-5150" not in page.content.decode()  # therapist A's completion is not therapist B's business
    assert queue.status_code == 200 and "KAP-5150" in queue.content.decode()
    assert queue.content.decode().count("Add a course") == 1 and "Add a course" not in page.content.decode()
    assert refused.status_code == 403


def test_a_coordinator_adds_a_course_on_the_page_and_nobody_else_can(client, coordinator, therapist_a):
    from network.training.models import Course

    body = {"title": "Integration circles", "provider": "KAP Institute", "ce_hours": "1.50", "required_for": ""}
    client.force_login(therapist_a)
    refused = client.post("/network/training/courses/new/", body)
    client.force_login(coordinator)
    bad = client.post("/network/training/courses/new/", {**body, "ce_hours": "-3"})
    added = client.post("/network/training/courses/new/", body)

    assert refused.status_code == 403
    assert bad.status_code == added.status_code == 302
    assert list(Course.objects.values_list("title", "ce_hours")) == [("Integration circles", Decimal("1.50"))]

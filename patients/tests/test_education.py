"""Education: the patient reads the modules and marks them read; the care team sees which were read."""

import pytest
from django.core.exceptions import PermissionDenied

from kapcare.audit.models import AuditEvent
from patients import content, selectors, services
from patients.models import EducationModule, EducationProgress


@pytest.fixture
def modules(db):
    content.seed_current()
    return list(EducationModule.objects.filter(active=True).order_by("order"))


def test_the_migration_seeds_the_modules(modules):
    assert [m.slug for m in modules] == ["what-is-kap", "how-to-prepare", "what-it-feels-like", "integration"]
    preparing = modules[1].body.lower()
    for fact in ("fasting", "ride home", "chaperone", "until the next day", "benzodiazepine"):
        assert fact in preparing, fact


def test_marking_read_is_idempotent(patient, patient_a, modules):
    first = services.education_mark_read(actor=patient, patient=patient_a, module=modules[0])
    second = services.education_mark_read(actor=patient, patient=patient_a, module=modules[0])

    assert first == second
    assert EducationProgress.objects.count() == 1
    assert (
        AuditEvent.objects.filter(object_type="patients.educationprogress", action=AuditEvent.Action.CREATE).count()
        == 1
    )


def test_progress_lists_every_active_module_with_its_read_time(patient, patient_a, modules):
    services.education_mark_read(actor=patient, patient=patient_a, module=modules[2])
    modules[3].active = False
    modules[3].save()

    progress = selectors.education_progress(patient_a)

    assert [m.slug for m in progress] == ["what-is-kap", "how-to-prepare", "what-it-feels-like"]
    assert [m.read_at is not None for m in progress] == [False, False, True]


@pytest.mark.parametrize("role", ["therapist_a", "prescriber", "coordinator", "other_patient"])
def test_only_the_patient_marks_their_modules_read(cast, patient_a, modules, role):
    with pytest.raises(PermissionDenied):
        services.education_mark_read(actor=cast[role], patient=patient_a, module=modules[0])

    assert not EducationProgress.objects.exists()
    assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient_a).exists()


def test_the_patient_reads_and_marks_in_the_portal(client, patient, patient_a, modules):
    client.force_login(patient)

    listing = client.get("/education/")
    assert listing.status_code == 200
    assert "You have read 0 of 4" in listing.content.decode()

    page = client.get("/education/how-to-prepare/")
    assert page.status_code == 200
    assert "Mark as read" in page.content.decode()

    for _ in range(2):
        marked = client.post("/education/how-to-prepare/")
        assert marked.status_code == 302
        assert marked["Location"] == "/education/"
    assert EducationProgress.objects.filter(patient=patient_a).count() == 1

    assert "You have read 1 of 4" in client.get("/education/").content.decode()
    assert "You marked this as read" in client.get("/education/how-to-prepare/").content.decode()


def test_unknown_and_retired_modules_are_404(client, patient, modules):
    modules[0].active = False
    modules[0].save()
    client.force_login(patient)

    assert client.get(f"/education/{modules[0].slug}/").status_code == 404
    assert client.post(f"/education/{modules[0].slug}/").status_code == 404
    assert client.get("/education/no-such-module/").status_code == 404


@pytest.mark.parametrize("role", ["therapist_a", "prescriber", "coordinator"])
def test_the_team_sees_which_modules_were_read(client, cast, patient, patient_a, modules, role):
    services.education_mark_read(actor=patient, patient=patient_a, module=modules[0])
    client.force_login(cast[role])

    response = client.get(f"/patients/{patient_a.pk}/consents/")

    assert response.status_code == 200
    text = response.content.decode()
    assert f"{modules[0].title}: read" in text
    assert f'{modules[1].title}: <span class="muted">not read' in text


@pytest.mark.parametrize("role", ["therapist_b", "other_patient", "admin"])
def test_outsiders_do_not_see_the_education_state(client, cast, patient_a, modules, role):
    client.force_login(cast[role])

    response = client.get(f"/patients/{patient_a.pk}/consents/")

    assert response.status_code == 404
    assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient_a).exists()


def test_clinicians_do_not_reach_the_patients_reading_pages(client, therapist_a, modules):
    client.force_login(therapist_a)

    assert client.get("/education/").status_code == 403
    assert client.post(f"/education/{modules[0].slug}/").status_code == 403

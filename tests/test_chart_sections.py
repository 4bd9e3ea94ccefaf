"""The chart as an overview plus sections (issue 16): each section its own URL, audited, counted on its tab,
refused to a role that may not read it."""

import pytest

from kapcare.audit.models import AuditEvent
from treatment.sessions.models import TherapySession

from .course_states import completed_session, ready_for_evaluation, signed_dose_plan, signed_evaluation

SECTIONS = ["sessions", "measures", "course", "notes", "safety", "messages", "documents", "reminders", "history"]


@pytest.fixture
def course_patient(patient_a, therapist_a, prescriber):
    patient = patient_a
    """A patient with a signed evaluation and dose plan and one completed preparation session (note unsigned)."""
    ready_for_evaluation(patient)
    signed_evaluation(prescriber, patient)
    signed_dose_plan(prescriber, patient)
    completed_session(therapist_a, patient, TherapySession.Kind.PREPARATION)
    return patient


def chart_url(patient, section=None):
    return f"/patients/{patient.pk}/" if section is None else f"/patients/{patient.pk}/chart/{section}/"


def test_the_overview_answers_what_needs_doing_and_links_every_section(client, course_patient, therapist_a):
    client.force_login(therapist_a)

    page = client.get(chart_url(course_patient)).content.decode()

    assert "Dose plan and ledger" in page
    assert "Unsigned notes" in page
    for section in ["sessions", "measures", "course", "notes", "safety", "documents", "history"]:
        assert f'href="{chart_url(course_patient, section)}"' in page, section
    # The old full-length page is gone from the overview: the consents table is in Documents.
    assert "Consent documents" not in page
    # The overview has a second address under /chart/ too.
    assert client.get(f"/patients/{course_patient.pk}/chart/").status_code == 200


def test_each_section_is_its_own_page_and_its_read_is_audited(client, course_patient, therapist_a):
    client.force_login(therapist_a)
    for section in SECTIONS:
        response = client.get(chart_url(course_patient, section))
        assert response.status_code == 200, section
        event = AuditEvent.objects.filter(actor=therapist_a, fields__startswith="chart.").latest("at", "id")
        assert (event.action, event.object_id) == (AuditEvent.Action.READ, str(course_patient.pk))
        assert event.fields == f"chart.{section}"


def test_the_tabs_count_sessions_and_notes(client, course_patient, therapist_a):
    client.force_login(therapist_a)

    page = client.get(chart_url(course_patient, "sessions")).content.decode()

    assert 'aria-label="1 item">1</span>' in page  # one session (and one note)
    assert "Timeline of signed events" not in page  # that is the Course section
    assert "Preparation" in page
    course = client.get(chart_url(course_patient, "course")).content.decode()
    assert "Timeline of signed events" in course
    assert "Consent documents" in client.get(chart_url(course_patient, "documents")).content.decode()


def test_an_unknown_section_is_not_found(client, course_patient, therapist_a):
    client.force_login(therapist_a)

    assert client.get(chart_url(course_patient, "everything")).status_code == 404


def test_a_section_the_role_may_not_read_is_refused_with_a_reason(client, course_patient, coordinator):
    client.force_login(coordinator)

    response = client.get(chart_url(course_patient, "measures"))

    assert response.status_code == 403
    overview = client.get(chart_url(course_patient)).content.decode()
    assert f'href="{chart_url(course_patient, "measures")}"' not in overview


def test_another_practices_patient_is_not_found_on_every_section(client, course_patient, therapist_b):
    client.force_login(therapist_b)
    for section in [None, *SECTIONS]:
        assert client.get(chart_url(course_patient, section)).status_code == 404, section

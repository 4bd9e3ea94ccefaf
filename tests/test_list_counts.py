"""The patient list's count comes from the care-team rows (kapcare.access.visible_patient_count), not from the
list's own query: it must still say exactly how many patients the list holds, whatever the care team's history."""

from datetime import timedelta

from django.utils import timezone

from patients import access as patient_access
from patients.models import CareTeamMember

from .fixtures import refer


def listed(api, user):
    body = api.as_user(user).get("/api/v1/patients/?page_size=200").json()
    return body["count"], len(body["results"])


def test_the_count_follows_the_care_team_as_it_changes(api, therapist_a, therapist_b, prescriber, coordinator):
    patients = [
        refer(
            therapist_a,
            f"Pat{n}",
            f"Count{n}",
            f"count{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
        )
        for n in range(3)
    ]
    now = timezone.now()
    # A membership ending tomorrow and a new open one beside it: two active rows, still one patient.
    CareTeamMember.objects.filter(patient=patients[0], clinician=therapist_a).update(active_to=now + timedelta(days=1))
    CareTeamMember.objects.create(patient=patients[0], clinician=therapist_a, role="therapist", active_from=now)
    # One ended for good, one not begun yet: neither is listed.
    CareTeamMember.objects.filter(patient=patients[1], clinician=therapist_a).update(active_to=now - timedelta(hours=1))
    CareTeamMember.objects.filter(patient=patients[2], clinician=therapist_a).update(
        active_from=now + timedelta(days=1)
    )

    assert listed(api, therapist_a) == (1, 1)
    assert listed(api, therapist_b) == (0, 0)
    assert listed(api, prescriber) == (3, 3)
    for user in (therapist_a, therapist_b, prescriber, coordinator):
        assert patient_access.visible_patient_count(user) == patient_access.visible_patients(user).count()


def test_a_listed_patient_is_audited_as_fully_as_a_read_one(api, therapist_a, patient_a):
    """The list's audit rows go in as one INSERT of arrays (no model per row): each must carry everything
    a single read's row does."""
    from kapcare.audit.models import AuditEvent

    client = api.as_user(therapist_a)
    client.get(f"/api/v1/patients/{patient_a.pk}/")
    read = AuditEvent.objects.filter(action="read", patient=patient_a).latest("id")
    before = timezone.now()
    response = client.get("/api/v1/patients/")

    [listed_event] = AuditEvent.objects.filter(action="list", id__gt=read.id)
    same = ("actor_id", "actor_role", "actor_name", "patient_id", "object_type", "object_id", "outcome", "client_ip")
    assert [getattr(listed_event, name) for name in same] == [getattr(read, name) for name in same]
    assert (listed_event.fields, listed_event.detail) == ("", {})
    assert listed_event.request_id == response["X-Request-ID"]
    assert before <= listed_event.at <= timezone.now()

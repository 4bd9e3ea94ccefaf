"""The patient list's count comes from the care-team rows (kapcare.access.visible_patient_count), not from the
list's own query: it must still say exactly how many patients the list holds, whatever the care team's history."""

from datetime import timedelta

from django.utils import timezone

from kapcare import access
from patients.models import CareTeamMember

from .conftest import refer


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
        assert access.visible_patient_count(user) == access.visible_patients(user).count()

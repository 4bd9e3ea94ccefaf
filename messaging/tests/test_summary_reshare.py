"""An integration summary edited after it was shared is shared again as a new version, and every card of it in
the care-team thread shows the latest version, saying it was updated (issue 12, point 9)."""

import pytest

from messaging.models import Message, Notification
from messaging.tests.test_messaging import integration_summary
from tests import course_states

pytestmark = pytest.mark.django_db


def share_url(patient, summary):
    return f"/patients/{patient.pk}/messages/share/integration-summary/{summary.pk}/"


def test_an_edited_summary_is_shared_again_and_the_card_shows_the_latest(
    api, client, therapist_a, prescriber, patient_a
):
    patient = patient_a
    course_states.ready_to_dose(therapist_a, prescriber, patient)
    summary = integration_summary(therapist_a, patient)
    client.force_login(therapist_a)
    client.post(share_url(patient, summary))
    assert Message.objects.filter(kind=Message.Kind.INTEGRATION_SUMMARY).count() == 1

    # Unchanged, it is not shared twice (the rule named).
    again = client.post(share_url(patient, summary), follow=True).content.decode()
    assert "has not changed since" in again
    assert Message.objects.filter(kind=Message.Kind.INTEGRATION_SUMMARY).count() == 1

    # The therapist edits it through the API: the thread offers to share the update, and sharing posts version 2.
    edited = api.as_user(therapist_a).patch(
        f"/api/v1/integration-summaries/{summary.pk}/",
        {"insights": "Sees the depression as protective."},
        format="json",
    )
    assert edited.status_code == 200, edited.content
    assert "Share the update" in client.get(f"/patients/{patient.pk}/messages/").content.decode()
    client.post(share_url(patient, summary))

    first, second = Message.objects.filter(kind=Message.Kind.INTEGRATION_SUMMARY).order_by("source_version")
    assert (first.source_version, second.source_version) == (1, 2)
    assert "updated (version 2)" in second.card["title"]
    assert Notification.objects.filter(recipient=prescriber, message=second).exists()

    # The prescriber's thread: the first card shows the latest text and says it was updated.
    client.force_login(prescriber)
    page = client.get(f"/patients/{patient.pk}/messages/").content.decode()
    assert page.count("Sees the depression as protective.") == 2
    assert "Noticed how much she holds back at work." not in page
    assert "Updated since it was shared here: this is version 2" in page
    listed = api.as_user(prescriber).get(f"/api/v1/messages/?patient={patient.pk}").json()["results"]
    assert sorted(m["source_version"] for m in listed if m["kind"] == "integration_summary") == [1, 2]

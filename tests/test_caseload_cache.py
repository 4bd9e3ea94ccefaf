"""What a dashboard counts over the whole caseload is kept per user in the cache (kapcare.caseload_cache), and a
service that changes it shows on the next dashboard, not a minute later."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kapcare import caseload_cache
from messaging.services import message_send, notifications_mark_all_read
from treatment.adverse_events import services as adverse_event_services

from .fixtures import refer


def page_of(client):
    return client.get("/").content.decode()


def test_a_referral_counts_at_once_on_both_dashboards(client, therapist_a, prescriber, coordinator, patient_a):
    client.force_login(therapist_a)
    assert "All patients (1)" in page_of(client)
    assert 'href="/?stage=referred#patients"><span class="stage stage-referred">Referred</span> 1<' in page_of(client)
    client.force_login(prescriber)
    before = page_of(client)

    refer(therapist_a, "Nova", "Quill", "nova@example.test", prescriber=prescriber, coordinator=coordinator)

    client.force_login(therapist_a)
    after = page_of(client)
    assert "All patients (2)" in after
    assert 'href="/?stage=referred#patients"><span class="stage stage-referred">Referred</span> 2<' in after
    client.force_login(prescriber)
    assert "Quill, Nova" not in before and "Quill, Nova" in page_of(client)
    # The therapist is on the prescriber's new patient's team: the clinician filter offers them at once.
    assert f'<option value="{therapist_a.pk}">' in page_of(client)


def test_the_api_lists_a_referral_at_once(api, therapist_a, prescriber, coordinator, patient_a):
    """The patient list API's count is the dashboard's cached one: a referral shows in it and on its pages at once."""
    client = api.as_user(therapist_a)
    assert client.get("/api/v1/patients/").json()["count"] == 1

    refer(therapist_a, "Nova", "Quill", "nova@example.test", prescriber=prescriber, coordinator=coordinator)

    listing = client.get("/api/v1/patients/?page_size=1").json()
    assert listing["count"] == 2 and listing["next"] is not None
    assert [row["last_name"] for row in client.get("/api/v1/patients/").json()["results"]] == ["Alder", "Quill"]


def test_a_side_effect_reported_counts_at_once(client, therapist_a, prescriber, patient_a):
    client.force_login(prescriber)
    assert "Recent side effects (last 14 days)</h2>" in page_of(client)

    adverse_event_services.adverse_event_report(actor=therapist_a, patient=patient_a, kind="nausea", severity="mild")

    assert "Recent side effects (last 14 days: 1)</h2>" in page_of(client)


def test_summaries_are_read_from_the_cache_until_something_changes(therapist_a):
    computed = []

    def count():
        computed.append(1)
        return len(computed)

    assert caseload_cache.summaries(therapist_a, {"n": count}) == {"n": 1}
    assert caseload_cache.summaries(therapist_a, {"n": count}) == {"n": 1}  # kept
    caseload_cache.changed()
    assert caseload_cache.summaries(therapist_a, {"n": count}) == {"n": 2}
    cache.delete(caseload_cache.VERSION_KEY)  # evicted: recomputed under a new version, never an old value
    assert caseload_cache.summaries(therapist_a, {"n": count}) == {"n": 3}
    assert cache.get(f"caseload:{therapist_a.pk}:n") is not None  # the key names the user by id only


def test_a_warm_dashboard_reads_no_caseload_count(client, therapist_a, patient_a):
    client.force_login(therapist_a)
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert 'COUNT(*) AS "__count" FROM "patients_patient"' not in sql  # how many patients
    assert '"stage" AS "stage", COUNT(' not in sql  # patients by stage
    assert 'COUNT("patients_dueitem"."id") FILTER' not in sql  # the work due
    assert 'COUNT(*) AS "__count" FROM "treatment_' not in sql  # sessions and plans


def test_a_cache_that_does_not_answer_fails_neither_a_write_nor_a_dashboard(
    client, monkeypatch, therapist_a, prescriber, coordinator, patient_a
):
    def down(*args, **kwargs):
        raise ConnectionError("the cache is down")

    for method in ("get", "get_many", "add", "set", "set_many"):
        monkeypatch.setattr(caseload_cache.cache, method, down)

    refer(therapist_a, "Nova", "Quill", "nova@example.test", prescriber=prescriber, coordinator=coordinator)
    client.force_login(therapist_a)
    response = client.get("/")

    assert response.status_code == 200
    assert "All patients (2)" in response.content.decode()


def test_a_change_for_some_users_keeps_everyone_elses_summaries(therapist_a, prescriber):
    computed = []

    def count():
        computed.append(1)
        return len(computed)

    assert caseload_cache.summaries(therapist_a, {"n": count}) == {"n": 1}
    assert caseload_cache.summaries(prescriber, {"n": count}) == {"n": 2}
    caseload_cache.changed(users=[prescriber])
    assert caseload_cache.summaries(therapist_a, {"n": count}) == {"n": 1}  # kept
    assert caseload_cache.summaries(prescriber, {"n": count}) == {"n": 3}
    cache.delete(f"caseload:{prescriber.pk}:version")  # evicted: recomputed, never an old value
    assert caseload_cache.summaries(prescriber, {"n": count}) == {"n": 4}


def test_the_badge_counts_a_new_message_at_once_and_forgets_it_once_read(client, therapist_a, prescriber, patient_a):
    client.force_login(prescriber)
    assert 'data-testid="unread-count"' not in page_of(client)

    message_send(actor=therapist_a, patient=patient_a, body="Can we move Thursday's session?")

    assert 'data-testid="unread-count">1<' in page_of(client)
    assert 'data-testid="unread-count">1<' in client.get(reverse("messaging:notification-badge")).content.decode()
    notifications_mark_all_read(actor=prescriber)
    assert 'data-testid="unread-count"' not in page_of(client)

"""Lists and dashboards cost the same number of SQL queries whatever the number of rows (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import refer


def make_patients(count, therapist, prescriber, coordinator):
    for n in range(count):
        refer(
            therapist,
            f"Pat{n}",
            f"Load{n:03d}",
            f"load{n}@example.test",
            prescriber=prescriber,
            coordinator=coordinator,
        )


def queries_for(client, path):
    client.get(path)  # warm up: the first request after login may write more to the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


SIZES = [1, 50, 200]

# Exact budgets. Every page: session, user, the second-factor check (staff), one audit INSERT, and
# the session save that keeps the idle clock (a savepoint, an UPDATE and a release inside the test
# transaction). Lists: page count and page. Dashboards add the care teams (one prefetch), latest
# invitations, current consent documents, their signatures, intake statuses and (clinicians only)
# screening flags; the coordinator's heading names their organization. The patient's dashboard adds
# their intake, outstanding consents and education progress for the checklist.
API_LIST_QUERIES = 9
# The prescriber's dashboard adds its evaluation queue: one query, plus the queue's screening flags and one
# audit INSERT when the queue is not empty (it is empty here: these patients are only referred).
# Clinicians' dashboards add the safety alerts waiting for them (one query; one audit INSERT when any).
# The prescriber's adds recent side effects (one query, same audit INSERT) and the follow-ups due and the dose
# plans nearing exhaustion (one query each).
DASHBOARD_QUERIES = {"therapist_a": 16, "prescriber": 20, "coordinator": 15, "patient": 11, "admin": 6}


@pytest.mark.parametrize("size", SIZES)
def test_patient_list_api(api, therapist_a, prescriber, coordinator, size):
    make_patients(size, therapist_a, prescriber, coordinator)
    client = api.as_user(therapist_a)

    assert queries_for(client, "/api/v1/patients/") == API_LIST_QUERIES
    assert client.get("/api/v1/patients/").json()["count"] == size


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", sorted(DASHBOARD_QUERIES))
def test_dashboard(client, cast, therapist_a, prescriber, coordinator, patient, role, size):
    make_patients(size, therapist_a, prescriber, coordinator)
    client.force_login(cast[role])

    assert queries_for(client, "/") == DASHBOARD_QUERIES[role]

"""Every API route × method × role × target patient, and what the policy says must happen.

Targets, seen from the cast of conftest.py:
  A   patient_a:  therapist A's patient, prescriber on the team, the `patient` user's own record
  A2  patient_a2: same practice as therapist A but another therapist's patient; no prescriber yet
  B   patient_b:  practice B's patient, prescriber on the team, the `other_patient` user's own record
  X   patient_x:  another medical group altogether

So for therapist A, A is own, A2 is foreign (same practice) and B is the other practice's.

A denial must leak no field of the patient, change no row, and leave an audit row.
Later issues add their routes' rows here; a route under /api/ missing from ROUTES fails the suite.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kapcare.audit.models import AuditEvent
from patients.models import CareTeamMember, Patient

ROLES = ["therapist_a", "therapist_b", "prescriber", "coordinator", "patient", "other_patient", "admin", "anonymous"]
TARGETS = ["A", "A2", "B", "X"]


def row(*statuses):
    """Expected status per target A, A2, B, X."""
    return dict(zip(TARGETS, statuses, strict=True))


# Expected status of a request about one patient, by role and target.
READ_PATIENT = {
    "therapist_a": row(200, 404, 404, 404),
    "therapist_b": row(404, 404, 200, 404),
    "prescriber": row(200, 404, 200, 404),
    "coordinator": row(200, 200, 200, 404),
    "patient": row(200, 404, 404, 404),
    "other_patient": row(404, 404, 200, 404),
    "admin": row(404, 404, 404, 404),
    "anonymous": row(401, 401, 401, 401),
}
CHANGE_PATIENT = {
    **READ_PATIENT,
    "patient": row(403, 404, 404, 404),
    "other_patient": row(404, 404, 403, 404),
}
READ_ACCESS_HISTORY = {
    **READ_PATIENT,
    "coordinator": row(403, 403, 403, 404),
}
EVERYONE = {role: row(200, 200, 200, 200) for role in ROLES}
NOT_A_METHOD = {role: row(405, 405, 405, 405) for role in ROLES} | {"anonymous": row(401, 401, 401, 401)}

# Requests that concern no existing patient: expected status by role.
REFER = {
    "therapist_a": 201,
    "therapist_b": 201,
    "prescriber": 403,
    "coordinator": 403,
    "patient": 403,
    "other_patient": 403,
    "admin": 403,
    "anonymous": 401,
}
LIST = dict.fromkeys(ROLES, 200) | {"anonymous": 401}

NEW_PHONE = "+1 415 555 0199"
REFERRAL = {
    "first_name": "Emery",
    "last_name": "Elm",
    "email": "emery.elm@example.test",
    "date_of_birth": "1990-02-03",
    "state": "CA",
}

# route -> method -> (expectations, request body, kind). kind "patient" expectations are by role
# and target; kind "none" by role only.
ROUTES = {
    "/api/v1/patients/": {
        "GET": (LIST, None, "none"),
        "POST": (REFER, REFERRAL, "none"),
    },
    "/api/v1/patients/{id}/": {
        "GET": (READ_PATIENT, None, "patient"),
        "PATCH": (CHANGE_PATIENT, {"phone": NEW_PHONE}, "patient"),
        "PUT": (NOT_A_METHOD, {"phone": NEW_PHONE}, "patient"),
        "DELETE": (NOT_A_METHOD, None, "patient"),
    },
    "/api/v1/audit-events/?patient={id}": {
        "GET": (READ_ACCESS_HISTORY, None, "patient"),
    },
    "/api/schema/": {"GET": (EVERYONE, None, "public")},
    "/api/docs/": {"GET": (EVERYONE, None, "public")},
}

PATIENT_CASES = [
    pytest.param(route, method, role, target, id=f"{method} {route} {role} {target}")
    for route, methods in ROUTES.items()
    for method, (_expected, _body, kind) in methods.items()
    if kind == "patient"
    for role in ROLES
    for target in TARGETS
]
ROLE_CASES = [
    pytest.param(route, method, role, id=f"{method} {route} {role}")
    for route, methods in ROUTES.items()
    for method, (_expected, _body, kind) in methods.items()
    if kind != "patient"
    for role in ROLES
]


@pytest.fixture
def targets(patient_a, patient_a2, patient_b, patient_x):
    return {"A": patient_a, "A2": patient_a2, "B": patient_b, "X": patient_x}


def send(api, user, method, path, body):
    client = api.as_user(user)
    return getattr(client, method.lower())(path, data=body, format="json")


def database_state():
    """Everything a request about a patient could change, to compare before and after."""
    return (
        list(Patient.objects.order_by("pk").values()),
        list(CareTeamMember.objects.order_by("pk").values()),
    )


def patient_values(patient):
    return [patient.first_name, patient.last_name, patient.email, patient.date_of_birth.isoformat()]


@pytest.mark.parametrize(("route", "method", "role", "target"), PATIENT_CASES)
def test_patient_route(api, cast, targets, route, method, role, target):
    expected_status, body, _kind = ROUTES[route][method]
    expected = expected_status[role][target]
    patient = targets[target]
    path = route.format(id=patient.pk)
    before = database_state()
    audit_before = AuditEvent.objects.count()

    response = send(api, cast[role], method, path, body)

    assert response.status_code == expected, response.content
    if expected >= 400:
        text = response.content.decode()
        assert not any(value in text for value in patient_values(patient)), "a refusal leaked a field"
        assert response["Content-Type"].startswith("application/json")
        assert database_state() == before, "a refused request changed a row"
        if expected in (401, 403, 404):
            denied = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).order_by("-id").first()
            assert AuditEvent.objects.count() == audit_before + 1
            assert denied is not None
            if expected != 401:
                assert denied.patient_id == patient.pk, "the refusal is not in the patient's access history"
                assert denied.actor == cast[role]


@pytest.mark.parametrize(("route", "method", "role"), ROLE_CASES)
def test_route_without_target(api, cast, route, method, role):
    expected_status, body, kind = ROUTES[route][method]
    expected = expected_status[role] if kind == "none" else expected_status[role]["A"]
    before = Patient.objects.count()

    response = send(api, cast[role], method, route, body)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert Patient.objects.count() == before
        assert AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).exists()


VISIBLE_IN_LIST = {
    "therapist_a": {"A"},
    "therapist_b": {"B"},
    "prescriber": {"A", "B"},
    "coordinator": {"A", "A2", "B"},
    "patient": {"A"},
    "other_patient": {"B"},
    "admin": set(),
}


@pytest.mark.parametrize("role", sorted(VISIBLE_IN_LIST))
def test_patient_list_shows_exactly_the_visible_patients(api, cast, targets, role):
    response = send(api, cast[role], "GET", "/api/v1/patients/", None)

    listed = {item["id"] for item in response.json()["results"]}
    assert listed == {str(targets[name].pk) for name in VISIBLE_IN_LIST[role]}


def _api_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry, pattern)
        elif isinstance(entry, URLPattern):
            yield pattern


def _canonical(pattern):
    """`api/v1/^patients/(?P<pk>[^/.]+)/$` -> `/api/v1/patients/{id}/`."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)|<[^>]+>", "{id}", pattern)
    return "/" + path.replace("^", "").replace("$", "")


def test_every_api_route_is_in_the_matrix():
    in_matrix = {route.split("?")[0] for route in ROUTES}
    api_routes = {_canonical(p) for p in _api_routes() if p.startswith("api/")}
    missing = api_routes - in_matrix
    assert not missing, f"add these routes to the access matrix: {sorted(missing)}"
    assert in_matrix <= api_routes, f"the matrix names routes that do not exist: {sorted(in_matrix - api_routes)}"


# The portal's pages answer like the API: 404 for outsiders, 403 for a role that may not, and a
# visitor who is not signed in is sent to the sign-in page.
PAGES = {
    "/patients/{id}/": READ_PATIENT,
    "/patients/{id}/access-history/": READ_ACCESS_HISTORY,
}
PAGE_CASES = [
    pytest.param(page, role, target, id=f"{page} {role} {target}")
    for page in PAGES
    for role in ROLES
    for target in TARGETS
]


@pytest.mark.parametrize(("page", "role", "target"), PAGE_CASES)
def test_patient_page(client, cast, targets, page, role, target):
    expected = PAGES[page][role][target]
    patient = targets[target]
    user = cast[role]
    if user.is_authenticated:
        client.force_login(user)
    denied_before = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient).count()

    response = client.get(page.format(id=patient.pk))

    if expected == 401:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        return
    assert response.status_code == expected
    if expected >= 400:
        text = response.content.decode()
        assert not any(value in text for value in patient_values(patient))
        denied_after = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, patient=patient).count()
        assert denied_after == denied_before + 1
    else:
        assert patient.last_name in response.content.decode()

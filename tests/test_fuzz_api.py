"""Every operation of /api/schema/, fuzzed by schemathesis with a clinician's API token (QUALITY.md):
no response is a server error, and every response matches the schema (status code, content type, body).

In-process (WSGI), one pytest test per operation, bounded by FUZZ_EXAMPLES (default 15) so the whole file
finishes in a few minutes. Positive and negative cases: malformed input must get a documented 4xx.
Run alone: `.venv/bin/python -m pytest tests/test_fuzz_api.py` (README "Performance and proof").
"""

import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck
from knox.models import AuthToken
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from assessments.services import evaluation_save_draft
from kapcare.accounts.models import User
from treatment.course.services import dose_plan_save_draft

from .course_states import ready_for_evaluation, signed_dose_plan, signed_evaluation
from .factories import MedicalGroupFactory, PracticeFactory
from .fixtures import _staff as staff
from .fixtures import refer

# The module's clinician and records are made once (a module fixture): one xdist worker runs all its tests.
pytestmark = pytest.mark.xdist_group("fuzz_api")

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def clinician_token(django_db_setup, django_db_blocker):
    """Made once for the module inside an outer transaction that each test's own (a savepoint) nests in, and
    rolled back at the end: a clinician with a second factor and patients whose intake, evaluation and dose
    plan are signed, so reads find records; and the clinician's API token."""
    with django_db_blocker.unblock(), transaction.atomic():
        group = MedicalGroupFactory(name="Fuzz Medical Group")
        practice = PracticeFactory(name="Fuzz Practice", medical_group=group)
        therapist = staff(User.Role.THERAPIST, practice, "therapist.fuzz@example.test")
        prescriber = staff(User.Role.PRESCRIBER, group, "prescriber.fuzz@example.test")
        coordinator = staff(User.Role.COORDINATOR, group, "coordinator.fuzz@example.test", licensed=False)
        own = [
            refer(
                therapist,
                "Fia",
                f"Fuzz{n}",
                f"fuzz{n}@example.test",
                prescriber=prescriber,
                coordinator=coordinator,
                account=True,
            )
            for n in range(2)
        ]
        ready_for_evaluation(own[0])
        signed_evaluation(prescriber, own[0])
        signed_dose_plan(prescriber, own[0])
        # Drafts too, whose empty fields the schema must allow: a dose plan's next version, an evaluation.
        dose_plan_save_draft(actor=prescriber, patient=own[0], data={})
        ready_for_evaluation(own[1])
        evaluation_save_draft(actor=prescriber, patient=own[1], data={})
        _instance, token = AuthToken.objects.create(user=therapist)
        yield token
        transaction.set_rollback(True)


def load_schema():
    """The schema as the running app serves it (pytest-django has set Django up before collection)."""
    from django.core.wsgi import get_wsgi_application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    # NUL characters are refused by PostgreSQL text columns before any of our code; DRF says so with a 400.
    loaded.config.generation.update(allow_x00=False, max_examples=EXAMPLES)
    # The coverage phase (boundary values of every field, unexpected methods) takes minutes over ~80
    # operations: on with FUZZ_COVERAGE=1; the positive and negative fuzzing phase always runs.
    loaded.config.phases.coverage.enabled = os.environ.get("FUZZ_COVERAGE") == "1"
    return loaded


schema = load_schema()


@pytest.fixture(autouse=True)
def _keep_test_transaction_open():
    """The WSGI handler closes the connection when a request finishes, which would end the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@override_settings(ACCOUNT_RATE_LIMITS=False)
def test_every_operation_answers_within_its_schema(case, clinician_token, db):
    case.call_and_validate(headers={"Authorization": f"Token {clinician_token}"}, checks=CHECKS)

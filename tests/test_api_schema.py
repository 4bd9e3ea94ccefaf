"""The OpenAPI schema groups every operation by its resource (issue 14, point 6): a generated client gets a
`patients` module, an `intakes` module..., not one `v1` module for the resources without an explicit tag."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.test import APIRequestFactory, force_authenticate


def words(resource):
    """`audit-events` -> `audit events`; an explicit tag may keep a hyphenated word (`follow-ups`)."""
    return resource.replace("-", " ")


@pytest.fixture(scope="module")
def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if path.startswith("/api/v1/")
    ]


def test_every_operation_is_tagged_by_the_resource_of_its_path(operations):
    assert len(operations) > 50
    wrong = {
        f"{method.upper()} {path}": operation.get("tags")
        for path, method, operation in operations
        if [tag.replace("-", " ") for tag in operation.get("tags", [])] != [words(path.split("/")[3])]
    }
    assert not wrong, wrong


def test_the_resources_that_fell_under_v1_have_their_own_tags(operations):
    tags = {tag for _path, _method, operation in operations for tag in operation["tags"]}

    assert {"patients", "intakes", "consent documents", "consent signatures", "audit events"} <= tags
    assert "v1" not in tags


def test_the_served_schema_is_the_same_for_every_caller_and_made_once_per_process(api, patient, prescriber):
    """/api/schema/ keeps the document it made (kapcare.api.schema.SchemaGenerator): only right while the document
    does not depend on who asks, which a fresh generation for a patient, a prescriber and a visitor shows."""
    made_fresh = SpectacularAPIView.as_view()  # drf-spectacular's own view, which generates on every request
    documents = []
    for user in (patient, prescriber, None):
        request = APIRequestFactory().get("/api/schema/", HTTP_ACCEPT="application/json")
        if user is not None:
            force_authenticate(request, user=user)
        documents.append(made_fresh(request).render().content)

    first, second = api.get("/api/schema/"), api.as_user(prescriber).get("/api/schema/")

    assert documents[0] == documents[1] == documents[2]
    assert first.data is second.data  # the kept document, not a second generation
    assert first.status_code == second.status_code == 200
    assert api.get("/api/schema/", HTTP_ACCEPT="application/json").content == documents[0]

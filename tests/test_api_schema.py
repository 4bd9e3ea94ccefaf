"""The OpenAPI schema groups every operation by its resource (issue 14, point 6): a generated client gets a
`patients` module, an `intakes` module..., not one `v1` module for the resources without an explicit tag."""

import pytest
from drf_spectacular.generators import SchemaGenerator


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

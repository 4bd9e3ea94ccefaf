"""The OpenAPI schema: its view inspector tags every operation by its resource, so generated clients and the docs
group operations by what they are about; its generator makes the served document once per process."""

import re

from django.utils import translation
from drf_spectacular import generators
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

RESOURCE = re.compile(r"^/api/v\d+/([^/{]+)/")


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self):
        """The URL's resource after /api/v1/, in words: /api/v1/audit-events/ is "audit events". A view's own
        `@extend_schema(tags=...)` still wins."""
        match = RESOURCE.match(self.path)
        return [match.group(1).replace("-", " ")] if match else super().get_tags()


class SchemaGenerator(generators.SchemaGenerator):
    """/api/schema/'s generator: the document once per process, API version and language, not once per request. It
    is the same for every caller (public: every operation, whatever the caller may do; tests/test_api_schema.py
    compares callers), and making it costs about a second of CPU on a view anyone may call."""

    _documents = {}

    def get_schema(self, request=None, public=False):
        key = (self.api_version, translation.get_language(), public)
        if key not in self._documents:
            self._documents[key] = super().get_schema(request=request, public=public)
        return self._documents[key]

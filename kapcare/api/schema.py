"""The OpenAPI schema's view inspector: every operation is tagged by its resource, so generated clients and the
docs group operations by what they are about."""

import re

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

RESOURCE = re.compile(r"^/api/v\d+/([^/{]+)/")


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self):
        """The URL's resource after /api/v1/, in words: /api/v1/audit-events/ is "audit events". A view's own
        `@extend_schema(tags=...)` still wins."""
        match = RESOURCE.match(self.path)
        return [match.group(1).replace("-", " ")] if match else super().get_tags()

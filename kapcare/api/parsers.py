"""The API's JSON parser, with bounds: a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE or nested deeper than
API_JSON_MAX_DEPTH is refused with a 4xx in the error shape of CONTRACT.md, never a 500.

Python's JSON decoder recurses once per level: `[` x 3000 was a RecursionError. DRF hands the parser
`request.body`, which Django bounds (kapcare.api.errors turns that refusal into a 413); the parser reads
at most that much itself too, whatever stream it gets."""

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.parsers import get_encoding
from rest_framework.utils import json

from .errors import RequestTooLarge


def _too_deep(data, limit):
    """Walks the parsed value without recursion; True when it nests more than `limit` levels."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = get_encoding(parser_context)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit // 1024} KB.")
        depth = settings.API_JSON_MAX_DEPTH
        too_deep = exceptions.ParseError(f"JSON parse error - nested more than {depth} levels deep.")
        try:
            data = json.loads(body.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if _too_deep(data, depth):
            raise too_deep
        return data

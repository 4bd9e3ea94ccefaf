"""The error rules of CONTRACT.md, in one exception handler, and their documentation in the schema."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.fields import get_error_detail

from kapcare.rules import RuleRefused
from kapcare.versions import StaleRecord


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "Someone changed this record since you opened it. Reload it and try again."
    default_code = "stale_record"


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "This change conflicts with the record as it now stands. Reload and try again."
    default_code = "conflict"


def exception_handler(exc, context):
    """Every error is JSON: field errors for bad input, `{"detail", "code"}` for everything else."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, IntegrityError):
        exc = Conflict()
    elif isinstance(exc, StaleRecord):
        exc = PreconditionFailed(exc.message)
    elif isinstance(exc, RuleRefused):
        exc = Conflict(exc.message, code=exc.code)
    elif isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, met while DRF reads the body
        exc = RequestTooLarge()
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
    return response


def document_error_responses(result, generator, request, public):
    """drf-spectacular documents success only; add the error answers every operation can give."""
    error = {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    }
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = error
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    field_errors = {
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": True},
            }
        }
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method in ("post", "patch", "put", "delete"):
                responses.setdefault("409", {"description": "A rule of the course of care refuses it.", **ref})
            if method in ("patch", "put"):
                responses.setdefault("412", {"description": "Changed since you read it (If-Match).", **ref})
            responses.setdefault("401", {"description": "Not signed in.", **ref})
            responses.setdefault("403", {"description": "Your role may not do this.", **ref})
            responses.setdefault("404", {"description": "Not found, or outside your reach.", **ref})
            responses.setdefault("400", {"description": "Invalid input.", **field_errors})
    return result

"""The current request's id and client address, for audit rows written deep inside services."""

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None


_current = contextvars.ContextVar("kapcare_request_context", default=None)


def begin(request):
    context = RequestContext(request_id=uuid.uuid4().hex, client_ip=request.META.get("REMOTE_ADDR") or None)
    return _current.set(context)


def end(token):
    _current.reset(token)


def current():
    """The request being served, or a fresh context for work outside a request (commands, tasks)."""
    return _current.get() or RequestContext(request_id=uuid.uuid4().hex, client_ip=None)

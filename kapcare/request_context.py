"""The current request's id and client address, for audit rows written deep inside services."""

import contextvars
import hashlib
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


def session_reference(request):
    """Which sign-in made a request, without the secret: an API token's id (knox's token_key, its first
    characters) or the SHA-256 of the session key. Kept with records a person signs."""
    token_key = getattr(getattr(request, "auth", None), "token_key", None)
    if token_key:
        return f"token:{token_key}"
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        return f"session:{hashlib.sha256(session_key.encode('utf-8')).hexdigest()}"
    return ""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from kapcare import request_context

SESSION_STARTED = "kapcare_session_started"
LAST_ACTIVITY = "kapcare_last_activity"
# The idle clock is written to the session only when the stored activity is at least this old, not on every
# request (each write is an UPDATE and a commit). The limit then counts from up to this much before the last
# request: a session ends at most this early, never late.
ACTIVITY_RESOLUTION_SECONDS = 60
# Requests that the page makes by itself (htmx polling) send this header; they do not count as activity.
BACKGROUND_HEADER = "HTTP_X_KAPCARE_BACKGROUND"


class RequestIdMiddleware:
    """Gives each request an id that its audit rows share, and returns it as `X-Request-ID`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request_context.begin(request)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_context.current().request_id
            return response
        finally:
            request_context.end(token)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and Django's never-cache set) on every response that is not a static file:
    pages and API answers carry patient data, and no browser or proxy cache should keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


def start_session_clock(request):
    now = timezone.now().timestamp()
    request.session[SESSION_STARTED] = now
    request.session[LAST_ACTIVITY] = now


def idle_limit(user):
    if user.is_patient:
        return settings.KAPCARE_IDLE_TIMEOUT_PATIENT
    return settings.KAPCARE_IDLE_TIMEOUT_STAFF


class SessionTimeoutMiddleware:
    """Ends a session idle for longer than the role's limit, and any session older than the absolute limit.
    Activity is recorded to the minute (ACTIVITY_RESOLUTION_SECONDS), so most requests do not write the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and SESSION_STARTED in request.session:
            now = timezone.now().timestamp()
            last_activity = request.session.get(LAST_ACTIVITY, 0)
            idle = now - last_activity
            age = now - request.session[SESSION_STARTED]
            if age > settings.KAPCARE_SESSION_ABSOLUTE_LIMIT.total_seconds():
                logout(request)
                hours = int(settings.KAPCARE_SESSION_ABSOLUTE_LIMIT.total_seconds() // 3600)
                return self._signed_out(request, f"For your security, sessions end after {hours} hours.")
            if idle > idle_limit(user).total_seconds():
                logout(request)
                return self._signed_out(request, "Your session ended after a period of inactivity.")
            if not request.META.get(BACKGROUND_HEADER) and idle >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)

    @staticmethod
    def _signed_out(request, reason):
        message = f"{reason} Please sign in again."
        if request.path.startswith("/api/") or request.META.get(BACKGROUND_HEADER):
            return JsonResponse({"detail": message, "code": "session_expired"}, status=401)
        messages.info(request, message)
        return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")


def needs_second_factor(user):
    """True while a clinician, coordinator or admin has not enrolled the second factor that MFA requires.

    Asked of the database on every request (one indexed query), never remembered in the session: a user who
    removes their authenticator, or whose authenticator an administrator removes, is held again at once.
    """
    if not settings.KAPCARE_REQUIRE_MFA or not user.is_authenticated or not user.is_staff_role:
        return False
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_passed(request):
    """True when this session's login passed the second factor (allauth records it as an `mfa` step), or
    the session enrolled one (kapcare.accounts.signals). A login by any other door has no such record."""
    from allauth.account.authentication import get_authentication_records

    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


MFA_OPEN_PATHS = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/", "/static/", "/healthz")


class RequireMFAMiddleware:
    """Until they enrol a second factor, staff reach only the enrolment pages; a staff session whose login
    did not pass the enrolled second factor is signed out (the admin's own login page was such a door)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(MFA_OPEN_PATHS) or not request.user.is_authenticated:
            return self.get_response(request)
        if needs_second_factor(request.user):
            return self._enrol(request)
        if settings.KAPCARE_REQUIRE_MFA and request.user.is_staff_role and not second_factor_passed(request):
            return self._sign_in_again(request)
        return self.get_response(request)

    @staticmethod
    def _enrol(request):
        message = "Set up two-factor authentication before using KAPCare."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "mfa_required"}, status=403)
        messages.warning(request, message)
        return redirect("mfa_activate_totp")

    @staticmethod
    def _sign_in_again(request):
        logout(request)
        message = "Sign in with your password and your authentication code to use KAPCare."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "code": "mfa_not_verified"}, status=401)
        messages.warning(request, message)
        return redirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()}, safe='/')}")

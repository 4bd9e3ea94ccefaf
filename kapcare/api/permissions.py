from rest_framework import exceptions, permissions

from kapcare.middleware import needs_second_factor


class IsAuthenticatedWithSecondFactor(permissions.IsAuthenticated):
    message = "Set up two-factor authentication before using KAPCare."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        session = getattr(request._request, "session", None)
        if needs_second_factor(request.user, session):
            raise exceptions.PermissionDenied(self.message, code="mfa_required")
        return True

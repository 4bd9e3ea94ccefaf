from rest_framework import exceptions, permissions

from kapcare.middleware import needs_second_factor


class IsAuthenticatedWithSecondFactor(permissions.IsAuthenticated):
    message = "Set up two-factor authentication before using KAPCare."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        # Session users were already held by RequireMFAMiddleware; token users reach DRF unchecked.
        if request.auth is not None and needs_second_factor(request.user):
            raise exceptions.PermissionDenied(self.message, code="mfa_required")
        return True

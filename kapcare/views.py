from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found, server_error


@never_cache
def healthz(request):
    """200 when the database answers, 503 when it does not. Public: it says nothing about patients."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


def internal_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Something went wrong on our side. It has been logged.", "code": "error"}, status=500
        )
    return server_error(request)

"""The two references of `make bench`, served only under kapcare.settings.bench (bench/urls.py).

bare:  a plain Django view with a constant JSON body, no database (the "trivial view" of QUALITY.md).
floor: the patient list's own scoped query (patients.access.visible_patients, name order, the page count and a
       page of 50) with `.values()` into a `JsonResponse`: no DRF, no serializer, no audit. The caller is named
       by `?user=<id>` (one query, as token authentication costs one).
"""

from django.contrib.auth import get_user_model
from django.http import JsonResponse

from patients.access import visible_patients

PAGE = 50
LIST_FIELDS = ("id", "first_name", "last_name", "email", "date_of_birth", "phone", "state", "time_zone", "stage")


def bare(request):
    return JsonResponse({"ok": True})


def floor(request):
    user = get_user_model().objects.get(pk=request.GET["user"])
    patients = visible_patients(user).order_by("last_name", "first_name", "id")
    return JsonResponse({"count": patients.count(), "results": list(patients.values(*LIST_FIELDS)[:PAGE])})

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .selectors import access_history

HISTORY_PAGE_SIZE = 50


@login_required
def patient_access_history(request, patient_id):
    patient, events = access_history(request.user, patient_id)
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/access_history.html", {"patient": patient, "page": page})

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from kapcare.audit.forms import AccessHistoryFilter
from kapcare.audit.selectors import filter_history

from .selectors import access_history

HISTORY_PAGE_SIZE = 50


@login_required
def patient_access_history(request, patient_id):
    patient, events = access_history(request.user, patient_id)
    # Everyone who appears in this history (as they were last named), for the "Who" filter.
    named = events.exclude(actor=None).order_by("at", "id").values_list("actor_id", "actor_name")
    actors = {pk: name or "A user" for pk, name in named}
    form = AccessHistoryFilter(request.GET or None, actors=sorted(actors.items(), key=lambda item: item[1]))
    status = 200
    if form.is_bound:
        if form.is_valid():
            events = filter_history(events, form.cleaned_data)
        else:
            status, events = 400, events.none()
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"patient": patient, "page": page, "form": form, "query": query.urlencode()}
    return render(request, "audit/access_history.html", context, status=status)

"""The "see all" page of a dashboard panel: one kind of due work, most urgent first, a page at a time with a
keyset cursor in the querystring (stable order, no OFFSET)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render

from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record_many
from patients import access as patient_access
from patients.models import DueItem
from treatment.due_work import KIND_ROLES

from . import due_selectors


@login_required
def due_work_list(request, kind):
    if kind not in DueItem.Kind.values:
        raise Http404("No such kind of due work.")
    patient_access.require_due_work(request.user, KIND_ROLES[kind])
    after = None
    if request.GET.get("after"):
        try:
            after = due_selectors.parse_cursor(request.GET["after"])
        except (ValueError, OverflowError):
            return HttpResponseBadRequest("This page link is damaged: go back to the first page.")
    rows = due_selectors.due_rows(request.user, kind, limit=due_selectors.SEE_ALL_PAGE + 1, after=after)
    page, more = rows[: due_selectors.SEE_ALL_PAGE], len(rows) > due_selectors.SEE_ALL_PAGE
    audit_record_many(
        request.user, AuditEvent.Action.LIST, list({row.patient_id: row.patient for row in page}.values())
    )
    return render(
        request,
        "messaging/dashboards/due_work_list.html",
        {
            "kind": kind,
            "title": DueItem.Kind(kind).label,
            "rows": page,
            "total": due_selectors.due_counts(request.user, [kind])[kind],
            "next_cursor": due_selectors.cursor_of(page[-1]) if more else None,
            "first_page": after is None,
        },
    )

"""Due work kept as rows (patients.models.DueItem): what the rules say is due, stored so dashboards read it
from an index. The rules live in the apps above (treatment's selectors), which register a deriver here when
Django starts; any service, in any app, calls `refresh(patient_ids)` inside its transaction after changing a
fact the rules read, and the rows follow in that transaction. `reconcile()` (a beat task and `manage.py
reconcile_due_work`) recomputes every patient's rows, for what time alone changes (a questionnaire's window
opening, a follow-up passing its grace) and for writes that went around the services.

A deriver is `derive(patient_ids, now) -> list[Due]` for a list of patients' ids: every item due for them now.
"""

import functools
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from kapcare import caseload_cache

from .models import DueItem, Patient

_DERIVERS = []
RECONCILE_CHUNK = 500


@dataclass(frozen=True)
class Due:
    """One item a rule says is due (what a DueItem row stores)."""

    patient_id: object
    kind: str
    key: str
    role: str
    due_at: datetime
    due_on: date
    object_id: object = None
    urgency: int = 1
    detail: str = ""

    @property
    def identity(self):
        return (self.patient_id, self.kind, self.key)

    def values(self):
        return {
            "role": self.role,
            "object_id": self.object_id,
            "due_at": self.due_at,
            "due_on": self.due_on,
            "urgency": self.urgency,
            "detail": self.detail[:400],
        }


def register(deriver):
    """Called from an AppConfig.ready() of an app that owns due-work rules."""
    if deriver not in _DERIVERS:
        _DERIVERS.append(deriver)


def derive(patient_ids, *, now=None) -> list[Due]:
    """What every registered rule says is due now for these patients."""
    now = now or timezone.now()
    patient_ids = list(patient_ids)
    return [item for deriver in _DERIVERS for item in deriver(patient_ids, now)]


def _sync(patient_ids, due, now) -> int:
    """Make the open rows of these patients equal to `due`: insert the new, update the changed, resolve the
    rest. Returns how many rows changed."""
    wanted = {item.identity: item for item in due}
    open_rows = {
        (row.patient_id, row.kind, row.key): row
        for row in DueItem.objects.open().filter(patient_id__in=patient_ids).select_for_update()
    }
    gone = [row.pk for identity, row in open_rows.items() if identity not in wanted]
    changed = []
    for identity, item in wanted.items():
        row = open_rows.get(identity)
        if row is None:
            continue
        values = item.values()
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    new = [
        DueItem(patient_id=item.patient_id, kind=item.kind, key=item.key, created_at=now, **item.values())
        for identity, item in wanted.items()
        if identity not in open_rows
    ]
    if gone:
        DueItem.objects.filter(pk__in=gone).update(resolved_at=now)
    if changed:
        DueItem.objects.bulk_update(changed, ["role", "object_id", "due_at", "due_on", "urgency", "detail"])
    if new:
        DueItem.objects.bulk_create(new)
    return len(gone) + len(changed) + len(new)


def refresh(patient_ids, *, now=None) -> int:
    """Recompute these patients' due work and store it (call it inside the transaction that changed the facts)."""
    patient_ids = sorted({pk for pk in patient_ids if pk is not None})
    if not patient_ids or not _DERIVERS:
        return 0
    now = now or timezone.now()
    # No savepoint of its own (two more round trips per service write): inside the service's transaction an error
    # here fails that whole transaction, as any error of the service does; alone (reconcile) it is a transaction.
    with transaction.atomic(savepoint=False):
        return _sync(patient_ids, derive(patient_ids, now=now), now)


def reconcile(*, now=None, chunk=RECONCILE_CHUNK) -> int:
    """Recompute every patient's due work, a chunk of patients per transaction. Returns rows changed."""
    changed = 0
    patients = Patient.objects.order_by("pk").values_list("pk", flat=True)
    ids = list(patients[:chunk])
    while ids:
        changed += refresh(ids, now=now)
        ids = list(patients.filter(pk__gt=ids[-1])[:chunk])
    if changed:
        caseload_cache.changed()  # the dashboards' counts of due work (a service's refresh says so in deferred())
    return changed


def _patient_ids(values):
    """The patients these service arguments and results belong to (a Patient, or records with patient_id)."""
    ids = set()
    for value in values:
        if isinstance(value, tuple | list):
            ids |= _patient_ids(value)
        elif isinstance(value, Patient):
            ids.add(value.pk)
        elif getattr(value, "patient_id", None) is not None:
            ids.add(value.patient_id)
    return ids


# The patients whose due work waits for the end of the outermost `deferred()` block (None: no block is open).
_pending = ContextVar("due_work_pending", default=None)


@contextmanager
def deferred():
    """Within the block, the services that keep due work note their patients, and the block refreshes them
    once at its end, in the same transaction (nothing when the block raises: its transaction rolls back). A
    service that calls other services refreshes once, not once per call; seeding and building a patient's
    history in one go use it too. A block inside another leaves the refresh to the outer one."""
    if _pending.get() is not None:
        yield
        return
    pending = set()
    token = _pending.set(pending)
    try:
        with transaction.atomic():
            yield
            refresh(pending)
            caseload_cache.changed()  # and what else the dashboards count: sessions, plans, stages, care teams
    finally:
        _pending.reset(token)


def keeps_due_work(service):
    """Decorate a service that changes facts the due-work rules read: in its transaction, once it has written,
    its patient's due work is recomputed (nothing is when it refuses or fails: the transaction rolls back)."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with deferred():
            result = service(*args, **kwargs)
            _pending.get().update(_patient_ids([result, *args, *kwargs.values()]))
        return result

    return wrapper

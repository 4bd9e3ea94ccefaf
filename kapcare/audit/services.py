"""Writing the audit trail. Every read or write of patient data goes through one of these."""

from django.db import connection
from django.utils import timezone

from kapcare import request_context

from .models import AuditEvent

PATIENT_LABEL = "patients.patient"


def _patient_id_of(obj):
    if obj._meta.label_lower == PATIENT_LABEL:
        return obj.pk
    return getattr(obj, "patient_id", None)


def _actor_name(actor, signed_in):
    if not signed_in:
        return "KAPCare (system)" if actor is None else "Not signed in"
    return (actor.get_full_name() or actor.email)[:300]


def _event(actor, action, *, object_type, object_id, patient_id, denied, context, fields=(), detail=None):
    signed_in = actor is not None and actor.is_authenticated
    return AuditEvent(
        actor=actor if signed_in else None,
        actor_role=actor.role if signed_in else ("system" if actor is None else "anonymous"),
        actor_name=_actor_name(actor, signed_in),
        fields=", ".join(fields)[:300],
        patient_id=patient_id,
        object_type=object_type,
        object_id=str(object_id or "")[:64],
        action=action,
        outcome=AuditEvent.Outcome.DENIED if denied else AuditEvent.Outcome.ALLOWED,
        request_id=context.request_id,
        client_ip=context.client_ip,
        detail=detail or {},
    )


def audit_record(actor, action, obj, *, denied=False, fields=(), detail=None):
    """One event about one object (a patient or a record that belongs to one). `fields`: the names (never
    the values) of the fields a change touched. `detail`: ids that say how the record was reached (a
    supervision read names its case), never patient data."""
    event = _event(
        actor,
        action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        patient_id=_patient_id_of(obj),
        denied=denied,
        context=request_context.current(),
        fields=fields,
        detail=detail,
    )
    event.save()
    return event


def audit_record_many(actor, action, objects, *, detail=None):
    """One event per object shown in a list, written in a single INSERT of arrays: no model instance per row
    (a page of 50 would build 50). `detail`: as audit_record's, the same for every event. Returns how many events
    were written."""
    objects = list(objects)
    context = request_context.current()
    if connection.vendor != "postgresql":  # SQLite (`make run`) has no unnest: the ORM's bulk INSERT
        events = [
            _event(actor, action, **_object_fields(obj), denied=False, context=context, detail=detail)
            for obj in objects
        ]
        return len(AuditEvent.objects.bulk_create(events))
    if not objects:
        return 0
    template = _event(
        actor, action, object_type="", object_id="", patient_id=None, denied=False, context=context, detail=detail
    )
    columns = ", ".join(f'"{name}"' for name in (*MANY_SHARED, "object_type", "object_id", "patient_id"))
    meta = AuditEvent._meta
    shared = [meta.get_field(name).get_db_prep_save(getattr(template, name), connection) for name in MANY_SHARED[1:]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model, no input)
            f"SELECT %s, {', '.join(['%s'] * len(shared))}, t.object_type, t.object_id, t.patient_id "
            "FROM unnest(%s::text[], %s::text[], %s::uuid[]) AS t(object_type, object_id, patient_id)",
            [
                timezone.now(),
                *shared,
                [obj._meta.label_lower for obj in objects],
                [str(obj.pk)[:64] for obj in objects],
                [_str_or_none(_patient_id_of(obj)) for obj in objects],
            ],
        )
    return len(objects)


# The columns every event of one audit_record_many shares, `at` first (their values come from one event).
MANY_SHARED = (
    "at",
    "actor_id",
    "actor_role",
    "actor_name",
    "fields",
    "action",
    "outcome",
    "request_id",
    "client_ip",
    "detail",
)


def _object_fields(obj):
    return {"object_type": obj._meta.label_lower, "object_id": obj.pk, "patient_id": _patient_id_of(obj)}


def _str_or_none(value):
    return None if value is None else str(value)


def audit_denied(actor, action, *, object_type, object_id, patient_id=None):
    """A refused attempt. `patient_id` files it in that patient's history when the patient exists."""
    event = _event(
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        denied=True,
        context=request_context.current(),
    )
    event.save()
    return event


def audit_admin_action(actor, action, obj, *, fields=(), before=None, after=None):
    """One change made through the Django admin: which fields it touched (names, never a patient's values);
    `before` and `after` carry values only for account fields that are not patient data (e.g. the role)."""
    detail = {"via": "admin", "fields": sorted(fields)}
    if before or after:
        detail.update(before=before or {}, after=after or {})
    event = _event(
        actor,
        action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        patient_id=_patient_id_of(obj),
        denied=False,
        context=request_context.current(),
        fields=sorted(fields),
        detail=detail,
    )
    event.save()
    return event


def audit_report(actor, *, object_type, detail=None):
    """A read of figures over many patients that names none (the outcomes page): one event, with its filters
    (ids and dates, never patient data) in `detail`."""
    event = _event(
        actor,
        AuditEvent.Action.READ,
        object_type=object_type,
        object_id="",
        patient_id=None,
        denied=False,
        context=request_context.current(),
        detail=detail,
    )
    event.save()
    return event

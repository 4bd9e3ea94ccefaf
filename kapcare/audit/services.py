"""Writing the audit trail. Every read or write of patient data goes through one of these."""

from kapcare import request_context

from .models import AuditEvent

PATIENT_LABEL = "patients.patient"


def _patient_id_of(obj):
    if obj._meta.label_lower == PATIENT_LABEL:
        return obj.pk
    return getattr(obj, "patient_id", None)


def _about(obj):
    """The event's fields naming one object and its patient."""
    return {"object_type": obj._meta.label_lower, "object_id": obj.pk, "patient_id": _patient_id_of(obj)}


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


def audit_record(actor, action, obj, *, denied=False, fields=()):
    """One event about one object (a patient or a record that belongs to one). `fields`: the names (never
    the values) of the fields a change touched."""
    return _save_one(actor, action, **_about(obj), denied=denied, fields=fields)


def audit_record_many(actor, action, objects):
    """One event per object shown in a list, written in a single INSERT."""
    context = request_context.current()
    events = [_event(actor, action, **_about(obj), denied=False, context=context) for obj in objects]
    return AuditEvent.objects.bulk_create(events)


def audit_denied(actor, action, *, object_type, object_id, patient_id=None):
    """A refused attempt. `patient_id` files it in that patient's history when the patient exists."""
    return _save_one(actor, action, object_type=object_type, object_id=object_id, patient_id=patient_id, denied=True)


def _save_one(actor, action, *, object_type, object_id, patient_id, denied, fields=(), detail=None):
    event = _event(
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        denied=denied,
        context=request_context.current(),
        fields=fields,
        detail=detail,
    )
    event.save()
    return event


def audit_admin_action(actor, action, obj, *, fields=(), before=None, after=None):
    """One change made through the Django admin: which fields it touched (names, never a patient's values);
    `before` and `after` carry values only for account fields that are not patient data (e.g. the role)."""
    detail = {"via": "admin", "fields": sorted(fields)}
    if before or after:
        detail.update(before=before or {}, after=after or {})
    return _save_one(actor, action, **_about(obj), denied=False, fields=sorted(fields), detail=detail)


def audit_report(actor, *, object_type, detail=None):
    """A read of figures over many patients that names none (the outcomes page): one event, with its filters
    (ids and dates, never patient data) in `detail`."""
    read = AuditEvent.Action.READ
    return _save_one(actor, read, object_type=object_type, object_id="", patient_id=None, denied=False, detail=detail)

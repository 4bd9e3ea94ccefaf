"""The one way a record becomes signed (and the one way a signed row makes its allowed transition).

A record's own sign service keeps its rules (what is missing, the gates, the credentials) and ends with
`record_sign`, inside the service's transaction with the record locked (select_for_update)."""

from django.utils import timezone

from kapcare.audit.models import AuditEvent
from kapcare.audit.services import audit_record
from kapcare.celery import enqueue_on_commit
from kapcare.rules import RuleRefused

from .mode import signing
from .models import Addendum, SignedRecord, content_sha256


def record_locked(record, code) -> RuleRefused:
    return RuleRefused(record.LOCKED_MESSAGE, code=code)


def record_sign(record: SignedRecord, *, actor, at=None, content=None, **also) -> SignedRecord:
    """Sign `record` (a draft, locked by the caller): the signer, the time and the hash of its signed content
    (`content`, else record.signed_content()), written through the signing door, audited. `also`: fields the
    signature sets too (the prescriber)."""
    if record.is_signed:
        raise ValueError("record_sign takes a draft; its sign service refuses a signed one first.")
    for name, value in also.items():
        setattr(record, name, value)
    record.status = record.Status.SIGNED
    record.signed_at = at or timezone.now()
    record.signed_by = actor
    record.content_hash = record.compute_hash() if content is None else content_sha256(content)
    with signing():
        record.save()
    audit_record(actor, AuditEvent.Action.UPDATE, record)
    return record


def record_addendum(
    record: SignedRecord,
    addendum_model: type[Addendum],
    *,
    actor,
    link: str,
    unsigned: RuleRefused,
    text: dict,
    **fields,
) -> Addendum:
    """A signed correction or addition to `record` by `actor`: the record locked, a draft refused with
    `unsigned`, and the addendum (`link`: its foreign key to the record; `text`: its text field, cleaned by the
    caller; `fields`: any other column, e.g. the patient) hashed with its parent's hash, author, text and time,
    saved once and audited."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if not record.is_signed:
        raise unsigned
    signed_at = timezone.now()
    content = {link: str(record.pk), "parent": record.content_hash, "author": actor.pk, **text, "at": signed_at}
    addendum = addendum_model(
        **{link: record}, author=actor, signed_at=signed_at, content_hash=content_sha256(content), **text, **fields
    )
    addendum.save()
    audit_record(actor, AuditEvent.Action.CREATE, addendum)
    return addendum


SELECT_FOR_SUPERVISION = "network.supervision.tasks.select_for_supervision"


def supervision_consider_on_commit(kind, record):
    """Once the signature commits, network.supervision considers the prescriber's signed record (`kind`: its
    SupervisionCase.Kind) for their supervisor's queue; its policy decides. Enqueued by task name, ids only: the
    apps that sign sit below the network. The reconcile beat picks up a record whose message was lost."""
    enqueue_on_commit(SELECT_FOR_SUPERVISION, kind, str(record.pk))


def record_transition(record: SignedRecord, *, actor, status, **changes) -> SignedRecord:
    """The model's one allowed change of a signed row (SignedRecord.TRANSITION), e.g. superseding a plan."""
    record.status = status
    for name, value in changes.items():
        setattr(record, name, value)
    with signing():
        record.save(update_fields=["status", *changes, *(["updated_at"] if hasattr(record, "updated_at") else [])])
    audit_record(actor, AuditEvent.Action.UPDATE, record)
    return record

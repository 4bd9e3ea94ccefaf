"""Optimistic concurrency: a record's version is a tag of its last change. A client that read version
V and sends `If-Match: "V"` with its change is refused (412) when someone else changed it meanwhile,
so nothing is silently overwritten."""

import hashlib


class StaleRecord(Exception):
    """The record changed since the caller read it."""

    def __init__(self, message="Someone changed this record since you opened it. Reload it and try again."):
        super().__init__(message)
        self.message = message


def version_of(record) -> str:
    return hashlib.sha256(f"{record.pk}:{record.updated_at.isoformat()}".encode()).hexdigest()[:16]


def check_version(record, expected: str | None):
    """Refuse when the caller named a version and it is no longer the current one."""
    if expected is not None and expected.strip('W/"') != version_of(record):
        raise StaleRecord()

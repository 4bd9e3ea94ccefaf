"""Per-user summaries of a caseload that a dashboard shows on every visit and that would otherwise be counted
over the whole caseload on each one (the clinician filter's choices, patients by stage, the work due, how many
sessions, plans and reports a panel holds), kept for a short time in the Django cache (Redis).

One version for them all. Whatever changes what they count calls `changed()`: every service that keeps due
work (patients.due_work.keeps_due_work), the stored due work's sync, care team and stage changes; the next read
of any summary then recomputes it. Between changes a summary is at most TTL seconds old, for what only the clock
changes (a care team row that ends, a report leaving the last 14 days).

Keys hold the user's id, the summary's name and the day; values hold counts and clinicians' names, never a
patient's data. A cache that does not answer fails neither a write nor a dashboard: the summaries are then
computed, and a change not recorded leaves them at most TTL seconds old."""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

TTL = 60
VERSION_KEY = "caseload:version"
log = logging.getLogger(__name__)


def changed():
    """The facts summaries count have changed (call it inside the writing transaction): now, and again on
    commit, since a read between the two could cache what was true before the commit."""
    _new_version()
    transaction.on_commit(_new_version)


def _new_version():
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # the cache's own errors (Redis, a file folder) vary with the backend
        log.warning("caseload cache: a change was not recorded", exc_info=True)


def summaries(user, compute: dict) -> dict:
    """{name: value} for this user, each from the cache when no change has happened since it was stored, else
    from `compute[name]()` (then stored). One cache round trip when every summary is there."""
    keys = {name: f"caseload:{user.pk}:{name}" for name in compute}
    try:
        found = cache.get_many([VERSION_KEY, *keys.values()])
        version = found.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(VERSION_KEY)
        if version is None:  # a cache that keeps nothing (DummyCache)
            return {name: count() for name, count in compute.items()}
    except Exception:
        log.warning("caseload cache: not answering; counting", exc_info=True)
        return {name: count() for name, count in compute.items()}
    values, stale = {}, {}
    for name, key in keys.items():
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            values[name] = entry[1]
        else:
            values[name] = compute[name]()
            stale[key] = (version, values[name])
    if stale:
        try:
            cache.set_many(stale, TTL)
        except Exception:
            log.warning("caseload cache: summaries not kept", exc_info=True)
    return values

"""Per-user summaries of a caseload that a dashboard shows on every visit and that would otherwise be counted
over the whole caseload on each one (the clinician filter's choices, patients by stage, the work due, how many
sessions, plans and reports a panel holds, the notification badge), kept for a short time in the Django cache
(Redis).

Two versions stamp every summary: one for them all and one per user. Whatever changes what they count calls
`changed()`: every service that keeps due work (patients.due_work.keeps_due_work), the stored due work's sync,
care team and stage changes (everyone's summaries); a notification made or read calls `changed(users=...)` (only
those users' summaries). The next read of a summary stamped with an older version recomputes it. Between changes
a summary is at most TTL seconds old, for what only the clock changes (a care team row that ends, a report leaving
the last 14 days).

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


def _user_version_key(user_id):
    return f"caseload:{user_id}:version"


def changed(*, users=None):
    """The facts summaries count have changed (call it inside the writing transaction): everyone's, or only those
    of `users` (user ids, or users); now, and again on commit, since a read between the two could cache what was
    true before the commit."""
    keys = [VERSION_KEY] if users is None else [_user_version_key(getattr(user, "pk", user)) for user in users]
    _new_versions(keys)
    transaction.on_commit(lambda: _new_versions(keys))


def _new_versions(keys):
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, None)
    except Exception:  # the cache's own errors (Redis, a file folder) vary with the backend
        log.warning("caseload cache: a change was not recorded", exc_info=True)


def _version(found, key):
    version = found.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key)
    return version


def summaries(user, compute: dict) -> dict:
    """{name: value} for this user, each from the cache when no change has happened since it was stored, else
    from `compute[name]()` (then stored). One cache round trip when every summary is there."""
    keys = {name: f"caseload:{user.pk}:{name}" for name in compute}
    user_key = _user_version_key(user.pk)
    try:
        found = cache.get_many([VERSION_KEY, user_key, *keys.values()])
        version = (_version(found, VERSION_KEY), _version(found, user_key))
        if None in version:  # a cache that keeps nothing (DummyCache)
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

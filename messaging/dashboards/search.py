"""The patient list's search term (a patient's name or e-mail) never travels in a URL, where access logs and
browser history would keep it. The search form POSTs it; the server keeps it in the user's session under a
random opaque key and redirects to the list with only that key beside the other, non-identifying filters, so
the list, its pages and its sorting stay plain links. A key from another session, or kept too long ago, finds
nothing and the list shows unfiltered."""

import secrets

from django.http import QueryDict

PARAM = "search"  # the query parameter carrying the opaque key
SESSION_KEY = "patient_list_searches"
KEPT = 20  # the latest searches of the session; older keys expire
# What the list's URL may carry besides the key: codes, ids and flags, never what was typed.
FILTER_PARAMS = ("stage", "state", "clinician", "alert", "overdue", "sort")


def remember(session, term: str) -> str:
    """Keep `term` in the session and return the opaque key that finds it again."""
    searches = dict(session.get(SESSION_KEY, {}))
    key = secrets.token_urlsafe(12)
    searches[key] = term
    session[SESSION_KEY] = dict(list(searches.items())[-KEPT:])
    return key


def recall(session, key: str) -> str | None:
    return session.get(SESSION_KEY, {}).get(key)


def list_query(data, key: str | None) -> str:
    """The list's querystring: the filters as posted and the search's key, nothing typed."""
    query = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        if data.get(name):
            query[name] = data[name]
    if key:
        query[PARAM] = key
    return query.urlencode()


def list_data(params, session) -> tuple[QueryDict, bool]:
    """The patient list form's data for a GET of the list: its parameters with the search's key replaced by the
    term it stands for, and whether the key was unknown (expired, or from another session). A `q` in the URL
    itself is never used."""
    data = params.copy()
    data.pop("q", None)
    key = data.pop(PARAM, [""])[-1]
    if not key:
        return data, False
    term = recall(session, key)
    if term is None:
        return data, True
    data["q"] = term
    return data, False

"""Clients for one bench run against the database seed_load filled: API tokens (issue_api_token), signed-in
sessions for the dashboards, the ids the endpoints name and the size of the data. Prints JSON.

    DJANGO_SETTINGS_MODULE=kapcare.settings.bench python -m bench.prepare > clients.json
"""

import io
import json
import os
import sys

import django


def session_cookie(user):
    """A signed-in session, as logging in makes one (no password check: Argon2 would be the whole cost)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from kapcare.middleware import LAST_ACTIVITY, SESSION_STARTED

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SESSION_STARTED] = session[LAST_ACTIVITY] = timezone.now().timestamp()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def api_token(email):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("issue_api_token", email, "--days", "1", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def has_route(path):
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def data_size():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
        cursor.execute(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE n_live_tup > 0 ORDER BY n_live_tup DESC"
        )
        rows = cursor.fetchall()
    return {"database": size, "rows": sum(count for _name, count in rows), "tables": dict(rows[:12])}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.bench")
    django.setup()
    from demo.management.commands.seed_load import DOMAIN, MEDICAL_GROUP
    from patients.models import Patient

    patients = Patient.objects.filter(medical_group__name=MEDICAL_GROUP)
    count = patients.count()
    if "--count" in sys.argv:
        print(count)
        return
    from kapcare.accounts.models import User

    therapist = User.objects.get(email=f"therapist01@{DOMAIN}")
    own = patients.filter(care_team__clinician=therapist).order_by("last_name", "first_name", "id").first()
    users = {
        "therapist": therapist,
        "prescriber": User.objects.get(email=f"prescriber1@{DOMAIN}"),
        "coordinator": User.objects.get(email=f"coordinator@{DOMAIN}"),
        "patient": own.user,
        "admin": User.objects.get(email=f"admin@{DOMAIN}"),
    }
    clients = {
        "patients": count,
        "therapist_id": str(therapist.pk),
        "patient_id": str(own.pk),
        "token": api_token(therapist.email),
        "cookies": {role: session_cookie(user) for role, user in users.items()},
        "messages_route": has_route("/api/v1/messages/"),
        "size": data_size(),
    }
    json.dump(clients, sys.stdout)


if __name__ == "__main__":
    main()

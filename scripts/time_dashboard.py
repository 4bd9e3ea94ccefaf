"""Time one dashboard request per role on a loaded database (issue 15): not a test, a quick measure.

    DATABASE_URL=postgres://... python scripts/time_dashboard.py [runs]

Signs in as the loaded staff (seed_load) through Django's test client and prints, per role, the median and the
best of `runs` requests to "/" (after one warm-up), with the queries of one request."""

import os
import statistics
import sys
import time

import django

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.test")
django.setup()

from allauth.account.internal.flows.login import record_authentication  # noqa: E402
from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.contrib.auth.signals import user_logged_in  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from kapcare.accounts.models import User  # noqa: E402
from patients import access as patient_access  # noqa: E402

ROLES = {"therapist": "therapist01", "prescriber": "prescriber1", "coordinator": "coordinator"}


def _second_factor_passed(sender, request, user, **kwargs):
    """force_login stands for a whole login, second factor included (as in tests/conftest.py)."""
    record_authentication(request, user, "mfa", type="totp")


def measure(email, runs):
    client = Client()
    client.force_login(User.objects.get(email=email))
    client.get("/")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        if client.get("/").status_code != 200:
            raise SystemExit(f"{email}: the dashboard did not answer 200")
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    return statistics.median(times), min(times), len(captured.captured_queries)


if __name__ == "__main__":
    setup_test_environment()
    user_logged_in.connect(_second_factor_passed)
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for role, name in ROLES.items():
        user = User.objects.get(email=f"{name}@load.kapcare.test")
        if not Authenticator.objects.filter(user=user).exists():
            TOTP.activate(user, generate_totp_secret())

        patients = patient_access.visible_patients(user).count()
        median, best, queries = measure(user.email, runs)
        print(f"{role:12} {patients:6} patients  median {median:8.1f} ms  best {best:8.1f} ms  {queries} queries")

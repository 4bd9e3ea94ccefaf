"""The outcomes page (issue 18) timed in-process at the database's size: its budget is under 1 second at 10,000
patients. `make bench` calls it once per database (scripts/bench.sh) and adds its lines to bench/results.md; wrk
measures the same page under load in the endpoint table.

For the coordinator (the whole network) and a prescriber (their own patients): the page through Django's test
client, signed in, RUNS times after a warm-up (median and slowest), and each figure's query alone (median), so a
slow page names its slow figure.

    DJANGO_SETTINGS_MODULE=kapcare.settings.bench python -m bench.outcomes_timing > fragment.md
"""

import os
import statistics
import sys
import time

import django

RUNS = 5
BUDGET_MS = 1000
FIGURES = (
    "course_counts",
    "scores",
    "adverse_event_rates",
    "timeliness",
)


def timed(call, runs=RUNS):
    call()  # warm: caches, the first plan
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def page_ms(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    def get():
        response = client.get("/outcomes/")
        if response.status_code != 200:
            raise SystemExit(f"/outcomes/ answered {response.status_code} for {user.email}")

    return timed(get)


def figures_ms(user):
    from outcomes import filters, selectors

    courses = selectors.cohort_courses(user, filters.Filters())
    result = {}
    with selectors.without_jit():  # as the page runs them
        for name in FIGURES:
            figure = getattr(selectors, name)
            result[name] = timed(lambda figure=figure: figure(courses), runs=3)[0]
    return result


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.bench")
    django.setup()
    from demo.management.commands.seed_load import DOMAIN, MEDICAL_GROUP
    from kapcare.accounts.models import User
    from patients.models import Patient

    patients = Patient.objects.filter(medical_group__name=MEDICAL_GROUP).count()
    lines = []
    for role, email in (("coordinator", f"coordinator@{DOMAIN}"), ("prescriber", f"prescriber1@{DOMAIN}")):
        user = User.objects.get(email=email)
        median, slowest = page_ms(user)
        figures = ", ".join(f"{name} {ms:.0f}" for name, ms in figures_ms(user).items())
        verdict = "within" if slowest < BUDGET_MS else "OVER"
        lines.append(
            f"Outcomes page in-process ({role}, {patients:,} patients): median {median:.0f} ms, slowest of {RUNS} "
            f"{slowest:.0f} ms ({verdict} the {BUDGET_MS} ms budget). Figures alone, ms: {figures}."
        )
    print("\n\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

"""One request at a time, in this process, through the Django test client, against a database seed_load filled:
each endpoint of `make bench` (bench/run.py), timed over several runs, with its queries. For finding where the
time goes without gunicorn and wrk; `make bench` stays the measurement the notes quote.

    DJANGO_SETTINGS_MODULE=kapcare.settings.bench DATABASE_URL=.../kapcare_bench_10000 \\
        python -m bench.inprocess [--runs 7] [--slow-ms 10] [--only therapist] [--profile therapist] [--explain]

Prints per endpoint: queries, p50/p95/max milliseconds, the Python CPU of a request (what a loaded machine
changes least) and the server time of its SELECTs; then each query slower than --slow-ms (with its plan
under --explain), and with --profile the cProfile of one request of that endpoint.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time

import django

HOST = "127.0.0.1"


def _clients():
    """(name, path, headers) like bench/run.py's endpoints, with the users bench/prepare.py picks."""
    from bench import prepare
    from demo.management.commands.seed_load import DOMAIN, MEDICAL_GROUP
    from kapcare.accounts.models import User
    from patients.models import Patient

    therapist = User.objects.get(email=f"therapist01@{DOMAIN}")
    patients = Patient.objects.filter(medical_group__name=MEDICAL_GROUP)
    own = patients.filter(care_team__clinician=therapist).order_by("last_name", "first_name", "id").first()
    users = {
        "therapist": therapist,
        "prescriber": User.objects.get(email=f"prescriber1@{DOMAIN}"),
        "coordinator": User.objects.get(email=f"coordinator@{DOMAIN}"),
        "patient": own.user,
        "admin": User.objects.get(email=f"admin@{DOMAIN}"),
    }
    token = {"HTTP_AUTHORIZATION": f"Token {prepare.api_token(therapist.email)}"}
    rows = [
        ("floor", f"/bench/floor/?user={therapist.pk}", {}),
        ("patient list API", "/api/v1/patients/", token),
        ("patient detail API", f"/api/v1/patients/{own.pk}/", token),
        ("assessments list API", f"/api/v1/assessments/?patient={own.pk}", token),
        ("messages list API", f"/api/v1/messages/?patient={own.pk}", token),
    ]
    for role, user in users.items():
        rows.append((f"dashboard {role}", "/", {"HTTP_COOKIE": prepare.session_cookie(user)}))
    return rows


class Recorder:
    """Every query of a request with its duration (an execute wrapper: works with DEBUG off)."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - started) * 1000, sql, params))


def request(client, path, headers):
    from django.db import connection

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path, **headers)
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return elapsed, cpu, recorder.queries


def explain(sql, params):
    """The plan with actual times, and the server's execution time in ms (None for a write)."""
    from django.db import connection

    if not sql.lstrip().upper().startswith(("SELECT", "(SELECT", "EXECUTE")):  # EXECUTE: kapcare.prepared's
        return "", None
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        lines = [line for (line,) in cursor.fetchall()]
    executed = next(float(line.split()[2]) for line in lines if line.startswith("Execution Time"))
    return "\n".join(f"        {line}" for line in lines), executed


def server_ms(queries):
    """The server's execution time of the SELECTs of one request (EXPLAIN ANALYZE of each, warm)."""
    return sum(explain(sql, params)[1] or 0 for _ms, sql, params in queries)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--slow-ms", type=float, default=10.0)
    parser.add_argument("--only", default="", help="endpoints whose name contains this")
    parser.add_argument("--profile", default="", help="cProfile one request of the endpoints matching this")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every query of the last run")
    parser.add_argument("--verbose", action="store_true", help="print the plans of --explain")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings.bench")
    django.setup()
    from django.test import Client

    from patients.models import Patient

    client = Client(SERVER_NAME=HOST)
    print(f"{Patient.objects.count():,} patients")
    for name, path, headers in _clients():
        if args.only not in name:
            continue
        request(client, path, headers)  # warm: the first request of a session may write more
        times, cpus, slow = [], [], {}
        for _ in range(args.runs):
            elapsed, cpu, queries = request(client, path, headers)
            times.append(elapsed)
            cpus.append(cpu)
            for ms, sql, params in queries:
                if ms >= args.slow_ms:
                    slow[sql] = (max(ms, slow.get(sql, (0,))[0]), params)
        print(
            f"{name:24} {len(queries):3d} queries  p50 {statistics.median(times):7.1f} ms  "
            f"p95 {percentile(times, 0.95):7.1f} ms  max {max(times):7.1f} ms  "
            f"python cpu p50 {statistics.median(cpus):6.1f} ms  server {server_ms(queries):6.1f} ms"
        )
        for sql, (ms, _params) in sorted(slow.items(), key=lambda item: -item[1][0]):
            print(f"    {ms:7.1f} ms  {sql[:160]}")
        if args.explain:
            # The server's own time for each query of the last run: what a loaded machine's queueing hides.
            for _ms, sql, params in queries:
                plan, executed = explain(sql, params)
                if executed is not None and executed >= args.slow_ms / 5:
                    print(f"    server {executed:7.2f} ms  {sql[:160]}")
                    if args.verbose:
                        print(plan)
        if args.profile and args.profile in name:
            profiler = cProfile.Profile()
            profiler.enable()
            client.get(path, **headers)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()

"""Drive the gunicorn that scripts/bench.sh started with wrk, from this separate process, and print the table.

    python bench/run.py --base http://127.0.0.1:8899 --clients clients.json --save size.json   # one size
    python bench/run.py --base ... --clients clients.json --queries-only --save small.json   # query counts only
    python bench/run.py --report 10000.json 100000.json [--compare-queries small.json] --out bench/results.md

Each endpoint: a warm-up, then `wrk -t2 -c<C> -d<D>s --timeout 30s`; requests/second and p50/p95/p99 from
bench/report.lua; SQL queries per request from the `X-Bench-Queries` header of a warm request
(bench/middleware.py). An endpoint whose single request takes longer than --request-timeout (60 s) is a row
marked "timeout", not a crash. The references (bare, floor; bench/views.py) run before and after the endpoints,
and each endpoint's ratio is to the floor's mean. The report puts the sizes side by side. Only the standard
library: the driver needs no Django.
"""

import argparse
import json
import os
import platform
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCES = ("bare", "floor")


def endpoints(clients):
    """(name, path, headers) of every endpoint and reference, in the order they run."""
    token = {"Authorization": f"Token {clients['token']}"}
    patient = clients["patient_id"]
    rows = [
        ("patient list API (page of 50)", "/api/v1/patients/", token),
        ("patient detail API", f"/api/v1/patients/{patient}/", token),
        ("assessments list API, one patient", f"/api/v1/assessments/?patient={patient}", token),
    ]
    if clients.get("messages_route"):
        rows.append(("messages list API, one patient", f"/api/v1/messages/?patient={patient}", token))
    for role, cookie in clients["cookies"].items():
        rows.append((f"dashboard HTML: {role}", "/", {"Cookie": cookie}))
    # Outcomes (issue 18): the network's figures for the coordinator, a clinician's own through the API token.
    rows.append(("outcomes API", "/api/v1/outcomes/", token))
    if "coordinator" in clients["cookies"]:
        rows.append(("outcomes HTML: coordinator", "/outcomes/", {"Cookie": clients["cookies"]["coordinator"]}))
    return rows


def references(clients):
    return [
        ("bare", "/bench/bare/", {}),
        ("floor", f"/bench/floor/?user={clients['therapist_id']}", {}),
    ]


TIMEOUT = "timeout"


def fetch(base, path, headers, timeout):
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 (the loopback URL we built)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()
        return response.status, int(response.headers.get("X-Bench-Queries", "-1"))


def queries_per_request(base, path, headers, timeout=60, measured=3):
    """Queries of a warm request (the fewest of `measured`); TIMEOUT when a request takes longer than `timeout`
    seconds, or "HTTP <status>" when it fails: the row then says so, and the run goes on.

    The fewest, not the first: gunicorn's workers each keep their own per-process caches (kept SQL, content types),
    and a request that a worker serves first costs it more. After a slow endpoint's load (8 s a request), the
    requests queued behind wrk's can send the warm request to one worker and the measured one to the other."""
    try:
        fetch(base, path, headers, timeout)  # warm: the first request of a session may write more
        counts = []
        for _ in range(measured):
            status, queries = fetch(base, path, headers, timeout)
            if status != 200:
                break
            counts.append(queries)
        queries = min(counts, default=None)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (TimeoutError, urllib.error.URLError) as error:
        if isinstance(error, TimeoutError) or isinstance(error.reason, TimeoutError):
            return TIMEOUT
        raise
    return queries if status == 200 else f"HTTP {status}"


def wrk(base, path, headers, *, seconds, connections, threads):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "report.lua")]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, base + path], capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(base, name, path, headers, args):
    """One row: the endpoint under load, or marked "timeout" (or its HTTP error) without load."""
    row = {"name": name, "path": path.split("?")[0]}
    queries = queries_per_request(base, path, headers, args.request_timeout)
    if isinstance(queries, str):
        print(f"  {name}: {queries}", flush=True)
        return {**row, "failed": queries, "queries": None}
    wrk(base, path, headers, seconds=args.warmup, connections=args.connections, threads=args.threads)
    result = wrk(base, path, headers, seconds=args.duration, connections=args.connections, threads=args.threads)
    if result["requests"] == 0:  # nothing finished within the run
        print(f"  {name}: no request finished in {args.duration} s", flush=True)
        return {**row, "failed": TIMEOUT, "queries": queries}
    failures = result["non_2xx"] + result["socket_errors"] + result["timeouts"]
    print(
        f"  {name}: {result['rps']:.0f} req/s, p95 {result['p95'] / 1000:.1f} ms, {queries} queries"
        + (f", {failures} FAILED" if failures else ""),
        flush=True,
    )
    return {**row, **result, "queries": queries, "failures": failures}


def run_size(args, clients):
    """Every endpoint at one database size, the references before and after."""
    refs = {name: [] for name in REFERENCES}
    for name, path, headers in references(clients):
        refs[name].append(measure(args.base, name, path, headers, args))
    results = [measure(args.base, name, path, headers, args) for name, path, headers in endpoints(clients)]
    for name, path, headers in references(clients):
        refs[name].append(measure(args.base, name, path, headers, args))
    rows = [mean_row(f"{name} (reference, before and after)", runs) for name, runs in refs.items()]
    return {"patients": clients["patients"], "size": clients["size"], "rows": rows + results}


def mean_row(name, runs):
    ok = [r for r in runs if "failed" not in r]
    if not ok:
        return {**runs[0], "name": name}
    worst = max(ok, key=lambda r: r["p95"])
    return {**worst, "name": name, "rps": sum(r["rps"] for r in ok) / len(ok)}


# The report ----------------------------------------------------------------------------------------


def reference_rps(run, name):
    row = next(r for r in run["rows"] if r["name"].startswith(name + " "))
    return row.get("rps") or float("nan")


def cells(row, floor):
    """req/s, p50, p95, queries, ÷ floor of one row at one size."""
    queries = "—" if row.get("queries") is None else str(row["queries"])
    if "failed" in row:
        return [f"**{row['failed']}**", "—", "—", queries, "—"]
    rps = f"{row['rps']:,.0f}" + (f" ({row['failures']} failed)" if row.get("failures") else "")
    return [rps, f"{row['p50'] / 1000:.1f}", f"{row['p95'] / 1000:.1f}", queries, f"{row['rps'] / floor:.2f}"]


def table(runs, compare=None):
    """One row per endpoint, the sizes side by side."""
    small = compare.get("patients") if compare else None
    head = ["endpoint"] + ([f"queries at {small:,}"] if small else [])
    for run in runs:
        size = f"{run['patients']:,}"
        head += [f"{size}: req/s", "p50 ms", "p95 ms", "queries", "÷ floor"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    floors = [reference_rps(run, "floor") for run in runs]
    for index, name in enumerate(r["name"] for r in runs[0]["rows"]):
        line = [name] + ([str(compare["queries"].get(name, "—"))] if small else [])
        for run, floor in zip(runs, floors, strict=True):
            line += cells(run["rows"][index], floor)
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)


LISTS = {"/api/v1/patients/": "Patient list API", "/api/v1/messages/": "Messages list API"}


def verdicts(runs, compare=None):
    """The targets of issue 15, each held or missed, in words."""
    notes = []
    for run in runs:
        floor = reference_rps(run, "floor")
        for path, label in LISTS.items():
            row = next((r for r in run["rows"] if r.get("path") == path), None)
            if row is None:
                continue
            share = 0 if "failed" in row else row["rps"] / floor
            verdict = "held." if share >= 0.5 else "MISSED."
            notes.append(
                f"- {label} at {run['patients']:,} patients: {share:.0%} of the floor (target ≥ 50%): {verdict}"
            )
        failed = [f"{r['name']} ({r['failed']})" for r in run["rows"] if "failed" in r]
        if failed:
            notes.append(f"- Not measured at {run['patients']:,} patients: {', '.join(failed)}.")
    dashboards = [i for i, r in enumerate(runs[0]["rows"]) if r["name"].startswith("dashboard")]
    first, last = runs[0], runs[-1]
    for i in dashboards:
        a, b = first["rows"][i], last["rows"][i]
        if "failed" in a or "failed" in b:
            continue
        held = a["p95"] < 150_000 and (last is first or b["p95"] <= 1.5 * a["p95"])
        notes.append(
            f"- {a['name']}: p95 {a['p95'] / 1000:.0f} ms at {first['patients']:,}"
            + ("" if last is first else f", {b['p95'] / 1000:.0f} ms at {last['patients']:,}")
            + " (target < 150 ms, within 1.5×): "
            + ("held." if held else "MISSED.")
        )
    sizes = [compare] if compare else []
    counts = {}
    for run in runs:
        for row in run["rows"]:
            counts.setdefault(row["name"], []).append(row.get("queries"))
    if compare:
        for name, queries in compare["queries"].items():
            counts.setdefault(name, []).insert(0, queries)
    counted = {name: [n for n in q if isinstance(n, int)] for name, q in counts.items()}  # not the timeouts
    differ = [f"{name} ({' → '.join(map(str, q))})" for name, q in counted.items() if len(set(q)) > 1]
    labels = ", ".join(f"{s['patients']:,}" for s in [*sizes, *runs])
    notes.append(
        f"- Queries per request equal at {labels} patients: "
        + ("held for every endpoint." if not differ else "MISSED for " + "; ".join(differ) + ".")
    )
    return "\n".join(notes)


def report(runs, compare, args):
    sizes = "; ".join(
        f"{run['patients']:,} patients ({run['size']['rows']:,} rows, database {run['size']['database']})"
        for run in runs
    )
    header = (
        f"`make bench` of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {sizes}; {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), gunicorn 2 sync workers, "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s after a {args.warmup} s warm-up, "
        f"on the same machine. A row marked timeout: one request took over {args.request_timeout} s, or none "
        "finished within the run."
    )
    return f"{header}\n\n{table(runs, compare)}\n\n{verdicts(runs, compare)}\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="the server, to measure (with --clients)")
    parser.add_argument("--clients", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 2)))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CLIENTS", 8)))
    parser.add_argument("--request-timeout", type=int, default=int(os.environ.get("BENCH_REQUEST_TIMEOUT", 60)))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries-only", action="store_true", help="count queries per endpoint; no load")
    parser.add_argument("--save", type=Path, help="where to save this size's measurements (or query counts)")
    parser.add_argument("--report", type=Path, nargs="+", help="saved sizes to print side by side, smallest first")
    parser.add_argument("--compare-queries", type=Path, help="queries per endpoint saved by a --queries-only run")
    parser.add_argument("--extra", type=Path, help="a Markdown fragment to append (reminder planning)")
    args = parser.parse_args()

    if args.report:
        runs = [json.loads(path.read_text()) for path in args.report]
        compare = json.loads(args.compare_queries.read_text()) if args.compare_queries else None
        text = report(runs, compare, args)
        if args.extra and args.extra.exists():
            text += "\n" + args.extra.read_text()
        print("\n" + text)
        if args.out:
            args.out.write_text(f"# Latest `make bench`\n\n{text}")
            print(f"Written to {args.out}.")
        return

    clients = json.loads(args.clients.read_text())
    if args.queries_only:
        counts = {
            name: queries_per_request(args.base, path, headers, args.request_timeout)
            for name, path, headers in endpoints(clients)
        }
        args.save.write_text(json.dumps({"patients": clients["patients"], "queries": counts}))
        print(f"Queries per request at {clients['patients']:,} patients: {counts}")
        return
    print(
        f"Load at {clients['patients']:,} patients: {len(endpoints(clients)) + 4} runs of "
        f"{args.warmup}+{args.duration} s at {args.connections} clients"
    )
    args.save.write_text(json.dumps(run_size(args, clients)))


if __name__ == "__main__":
    main()

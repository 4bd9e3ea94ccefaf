"""Drive the gunicorn that scripts/bench.sh started with wrk, from this separate process, and print the table.

    python bench/run.py --base http://127.0.0.1:8899 --clients clients.json --out bench/results.md \
        [--compare-queries small.json] [--queries-only --save small.json]

Each endpoint: a warm-up, then `wrk -t2 -c<C> -d<D>s --timeout 30s`; requests/second and p50/p95/p99 from
bench/report.lua; SQL queries per request from the `X-Bench-Queries` header of a warm request
(bench/middleware.py). The references (bare, floor; bench/views.py) run before and after the endpoints, and
each endpoint's ratio is to their mean. Only the standard library: the driver needs no Django.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
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


def fetch(base, path, headers):
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 (the loopback URL we built)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        response.read()
        return response.status, int(response.headers.get("X-Bench-Queries", "-1"))


def queries_per_request(base, path, headers):
    fetch(base, path, headers)  # warm: the first request of a session may write more
    status, queries = fetch(base, path, headers)
    if status != 200:
        sys.exit(f"{path} answered {status}, not 200: the bench would measure an error page.")
    return queries


def wrk(base, path, headers, *, seconds, connections, threads):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "report.lua")]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, base + path], capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    if result["requests"] == 0:  # nothing finished in time: the latencies are unknown, not zero
        result.update(p50=float("inf"), p95=float("inf"), p99=float("inf"))
    return result


def measure(base, name, path, headers, args):
    queries = queries_per_request(base, path, headers)
    wrk(base, path, headers, seconds=args.warmup, connections=args.connections, threads=args.threads)
    result = wrk(base, path, headers, seconds=args.duration, connections=args.connections, threads=args.threads)
    result.update(name=name, path=path.split("?")[0], queries=queries)
    failures = result["non_2xx"] + result["socket_errors"] + result["timeouts"]
    print(
        f"  {name}: {result['rps']:.0f} req/s, p95 {ms(result['p95'])}, {queries} queries"
        + (f", {failures} FAILED" if failures else ""),
        flush=True,
    )
    return result


def ms(microseconds):
    """Milliseconds, or "> the run" when no request finished (then the unit is in the text)."""
    return f"{microseconds / 1000:.1f} ms" if microseconds != float("inf") else f"> {DURATION_NOTE}"


DURATION_NOTE = "the run"


def table(results, refs, compare, clients, args):
    bare = sum(r["rps"] for r in refs["bare"]) / len(refs["bare"])
    floor = sum(r["rps"] for r in refs["floor"]) / len(refs["floor"])
    small = compare.get("patients") if compare else None
    head = "| endpoint | req/s | p50 ms | p95 ms | p99 ms | queries/request | " + (
        f"queries at {small:,} patients | " if small else ""
    )
    lines = [head + "÷ bare | ÷ floor |", "|---" * (head.count("|") + 1) + "|"]
    rows = [(f"{name} (reference, before and after)", refs[name]) for name in REFERENCES]
    rows += [(r["name"], [r]) for r in results]
    for name, runs in rows:
        rps = sum(r["rps"] for r in runs) / len(runs)
        worst = max(runs, key=lambda r: r["p95"])
        latencies = [ms(worst[p]).removesuffix(" ms") for p in ("p50", "p95", "p99")]
        cells = [name, f"{rps:,.0f}", *latencies, str(runs[0]["queries"])]
        if small:
            cells.append(str(compare["queries"].get(runs[0]["name"], "—")))
        cells += [f"{rps / bare:.3f}", f"{rps / floor:.2f}"]
        failures = sum(r["non_2xx"] + r["socket_errors"] + r["timeouts"] for r in runs)
        if failures:
            cells[0] += f" ({failures} failed requests)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), bare, floor


def verdicts(results, floor, compare):
    """The targets of QUALITY.md, each held or missed, in words."""
    notes = []
    listing = next(r for r in results if r["path"] == "/api/v1/patients/")
    share = listing["rps"] / floor
    notes.append(
        f"- Patient list API at {share:.0%} of the floor's requests/second (target ≥ 50%): "
        + ("held." if share >= 0.5 else "MISSED.")
    )
    notes.append(
        f"- Patient list API p95 {ms(listing['p95'])} at the clients above (target < 150 ms): "
        + ("held." if listing["p95"] < 150_000 else "MISSED.")
    )
    stuck = [r["name"] for r in results if r["requests"] == 0]
    if stuck:
        notes.append(f"- No request finished within the run (over {DURATION_NOTE}): {', '.join(stuck)}.")
    slow = [r["name"] for r in results if 150_000 <= r["p95"] < float("inf")]
    if slow:
        notes.append(f"- Endpoints with p95 ≥ 150 ms: {', '.join(slow)}.")
    if compare:
        differ = [
            f"{r['name']} ({compare['queries'][r['name']]} → {r['queries']})"
            for r in results
            if r["name"] in compare["queries"] and compare["queries"][r["name"]] != r["queries"]
        ]
        notes.append(
            f"- Queries per request equal at {compare['patients']:,} and the patients above: "
            + ("held for every endpoint." if not differ else "MISSED for " + "; ".join(differ) + ".")
        )
    return "\n".join(notes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--clients", required=True, type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", 2)))
    parser.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CLIENTS", 8)))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare-queries", type=Path, help="queries per endpoint saved by a --queries-only run")
    parser.add_argument("--queries-only", action="store_true", help="count queries per endpoint; no load")
    parser.add_argument("--save", type=Path, help="with --queries-only: where to save the counts")
    parser.add_argument("--extra", type=Path, help="a Markdown fragment to append (reminder planning)")
    args = parser.parse_args()
    global DURATION_NOTE
    DURATION_NOTE = f"{args.duration} s"
    clients = json.loads(args.clients.read_text())

    if args.queries_only:
        counts = {name: queries_per_request(args.base, path, headers) for name, path, headers in endpoints(clients)}
        args.save.write_text(json.dumps({"patients": clients["patients"], "queries": counts}))
        print(f"Queries per request at {clients['patients']:,} patients: {counts}")
        return

    compare = json.loads(args.compare_queries.read_text()) if args.compare_queries else None
    print(f"Load: {len(endpoints(clients)) + 4} runs of {args.warmup}+{args.duration} s at {args.connections} clients")
    refs = {name: [] for name in REFERENCES}
    for name, path, headers in references(clients):
        refs[name].append(measure(args.base, name, path, headers, args))
    results = [measure(args.base, name, path, headers, args) for name, path, headers in endpoints(clients)]
    for name, path, headers in references(clients):
        refs[name].append(measure(args.base, name, path, headers, args))

    body, _bare, floor = table(results, refs, compare, clients, args)
    size = clients["size"]
    header = (
        f"`make bench` of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {clients['patients']:,} patients "
        f"({size['rows']:,} rows, database {size['database']}); {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), gunicorn 2 sync workers, "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s after a {args.warmup} s warm-up, "
        "on the same machine."
    )
    report = f"{header}\n\n{body}\n\n{verdicts(results, floor, compare)}\n"
    if args.extra and args.extra.exists():
        report += "\n" + args.extra.read_text()
    print("\n" + report)
    if args.out:
        args.out.write_text(f"# Latest `make bench`\n\n{report}")
        print(f"Written to {args.out}.")


if __name__ == "__main__":
    main()

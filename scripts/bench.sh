#!/usr/bin/env bash
# `make bench`: gunicorn (2 sync workers, kapcare.settings.bench) against PostgreSQL filled by seed_load, loaded
# by wrk from a separate process, at each size; prints one table with the sizes side by side and writes
# bench/results.md (README "Performance and proof").
#
#   BENCH_PATIENTS="10000 100000"  patients of the measured databases, smallest first (BENCH_PATIENTS=1000: smoke)
#   BENCH_COMPARE=1000       patients of a database whose queries per request must equal the others' (0 skips it)
#   BENCH_DB=kapcare_bench   database name prefix: one database per size, <prefix>_<patients>
#   BENCH_DUE_FOLLOW_UPS=200 follow-ups due tomorrow at every size (seed_load --due-follow-ups): reminder
#                            planning has the same due work at each size
#   BENCH_SECONDS=10 BENCH_WARMUP=2 BENCH_CLIENTS=8   wrk duration, warm-up and concurrent connections
#   BENCH_REQUEST_TIMEOUT=60 seconds one request may take before its row is marked "timeout"
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${BENCH_PATIENTS:-10000 100000}
DB=${BENCH_DB:-kapcare_bench}
DUE=${BENCH_DUE_FOLLOW_UPS:-200}
COMPARE=${BENCH_COMPARE:-1000}
PORT=${BENCH_PORT:-8899}
PG=postgres://postgres@127.0.0.1:5432
export DJANGO_SETTINGS_MODULE=kapcare.settings.bench
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/9}
PY=.venv/bin/python
work=$(mktemp -d)
server=

stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
trap 'stop_server; rm -rf "$work"' EXIT

command -v wrk >/dev/null || { echo "Installing wrk (Debian) ..."; apt-get install -y -qq wrk >/dev/null; }

# A database with exactly $2 load patients: made, migrated and seeded when missing or of another size.
ensure_database() {
  local name=$1 patients=$2
  export DATABASE_URL=$PG/$name
  if psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw "$name"; then
    $PY manage.py migrate --noinput -v0
    if [ "$($PY -m bench.prepare --count)" = "$patients" ]; then echo "$name: $patients patients already loaded."; return; fi
    dropdb -h 127.0.0.1 -U postgres "$name"
  fi
  createdb -h 127.0.0.1 -U postgres "$name"
  $PY manage.py migrate --noinput -v0
  echo "$name: loading $patients patients ..."
  /usr/bin/time -f "seed_load --patients $patients: %e s" \
    $PY manage.py seed_load --patients "$patients" --due-follow-ups "$DUE" 2>&1 | tee -a "$work/seed.log" >&2
}

start_server() {
  export DATABASE_URL=$PG/$1
  .venv/bin/gunicorn kapcare.wsgi:application -w 2 -b 127.0.0.1:"$PORT" --log-level warning &
  server=$!
  for _ in $(seq 60); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/bench/bare/" && return; sleep 0.5; done
  echo "gunicorn did not answer on port $PORT" >&2; exit 1
}

compare_args=()
if [ "$COMPARE" != 0 ]; then
  ensure_database "${DB}_$COMPARE" "$COMPARE"
  start_server "${DB}_$COMPARE"
  $PY -m bench.prepare > "$work/compare-clients.json"
  $PY bench/run.py --base "http://127.0.0.1:$PORT" --clients "$work/compare-clients.json" --queries-only --save "$work/compare.json"
  stop_server
  $PY -m bench.reminder_planning >> "$work/reminders.md"
  compare_args=(--compare-queries "$work/compare.json")
fi

runs=()
for patients in $SIZES; do
  ensure_database "${DB}_$patients" "$patients"
  $PY -m bench.reminder_planning >> "$work/reminders.md"
  $PY -m bench.outcomes_timing >> "$work/reminders.md"  # the outcomes page in-process: under 1 s at 10,000
  start_server "${DB}_$patients"
  $PY -m bench.prepare > "$work/clients.json"
  $PY bench/run.py --base "http://127.0.0.1:$PORT" --clients "$work/clients.json" --save "$work/run-$patients.json"
  stop_server
  runs+=("$work/run-$patients.json")
done
grep -h "^seed_load" "$work/seed.log" 2>/dev/null | sed 's/^/Seeded: /' >> "$work/reminders.md" || true
$PY bench/run.py --report "${runs[@]}" "${compare_args[@]}" --extra "$work/reminders.md" --out bench/results.md

#!/usr/bin/env bash
# `make run`: the demo on http://127.0.0.1:$PORT with a real Celery worker and beat, and no services
# (SQLite file and a folder as the broker, both under var/). Ctrl-C stops everything started here.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=kapcare.settings.dev
PORT=${PORT:-8000}
export KAPCARE_BASE_URL=${KAPCARE_BASE_URL:-http://127.0.0.1:$PORT}
PY=.venv/bin/python

$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo -v0

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping KAPCare ..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/celery -A kapcare worker --pool=solo --loglevel=WARNING 2>var/worker.log &
pids+=($!)
.venv/bin/celery -A kapcare beat --loglevel=WARNING --pidfile= >var/beat.log 2>&1 &
pids+=($!)
$PY manage.py runserver "127.0.0.1:$PORT" --noreload &
pids+=($!)

echo
echo "KAPCare is running at http://127.0.0.1:$PORT  (API docs: http://127.0.0.1:$PORT/api/docs/)"
echo "Background jobs: Celery worker and beat (logs in var/worker.log and var/beat.log). E-mails print here."
echo "Ctrl-C stops all."
echo
$PY manage.py seed_demo | tail -n +2
wait -n "${pids[@]}"

#!/usr/bin/env bash
# The whole suite against the real PostgreSQL and Redis (scripts/ensure_services.sh starts them).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=kapcare.settings.test
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kapcare}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/8}
export REQUIRE_SERVICES=1
# Keep compiled modules and pytest's rewritten test modules in __pycache__ (this machine's environment sets
# PYTHONDONTWRITEBYTECODE): the checks below compile the apps once, and the xdist workers and the processes the
# tests start load them instead of compiling and rewriting every module again (about 6 s of each worker's start).
unset PYTHONDONTWRITEBYTECODE

# KAPCARE_AUDIT_ALONGSIDE=1 (make test): scripts/audit.sh runs in the background meanwhile; the run fails if it fails.
audit_pid=
if [ "${KAPCARE_AUDIT_ALONGSIDE:-0}" = 1 ]; then
  audit_log=$(mktemp)
  trap 'rm -f "$audit_log"' EXIT
  bash scripts/audit.sh >"$audit_log" 2>&1 &
  audit_pid=$!
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -40; exit 1; }
echo "== migrations are complete"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
echo "== pytest"
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ -n "$audit_pid" ]; then
  audit_status=0
  wait "$audit_pid" || audit_status=$?
  cat "$audit_log"
  [ "$status" != 0 ] || status=$audit_status
fi
exit "$status"

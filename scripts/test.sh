#!/usr/bin/env bash
# The whole suite against the real PostgreSQL and Redis (scripts/ensure_services.sh starts them).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=kapcare.settings.test
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/kapcare}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/8}
export REQUIRE_SERVICES=1
# Keep compiled modules and pytest's rewritten test modules in __pycache__ (this machine's environment sets
# PYTHONDONTWRITEBYTECODE): the processes the tests start (drills, embedded SQLite, seeds) load what the xdist
# workers compiled instead of compiling and rewriting every module again (about 6 s of each start).
unset PYTHONDONTWRITEBYTECODE

# KAPCARE_AUDIT_ALONGSIDE=1 (make test): scripts/audit.sh runs in the background meanwhile; the run fails if it fails.
audit_pid=
if [ "${KAPCARE_AUDIT_ALONGSIDE:-0}" = 1 ]; then
  audit_log=$(mktemp)
  bash scripts/audit.sh >"$audit_log" 2>&1 &
  audit_pid=$!
fi

# ruff and the migrations check run beside pytest (their CPU while the workers start matters less than waiting for
# them first); each one's report and failure follow the suite's.
checks_log=$(mktemp)
trap 'rm -f "$checks_log" ${audit_log:-} ${template_log:-}' EXIT
(
  echo "== ruff"
  .venv/bin/ruff check . &&
    { .venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --diff . | head -40; false; }; } &&
    echo "== migrations are complete" &&
    .venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
) >"$checks_log" 2>&1 &
checks_pid=$!

# With xdist workers and fresh databases, the template database the workers' are copied from is migrated beside
# pytest (tests/template.py) while the workers start and collect; each worker then finds it made for this run.
template_pid=
run_args=()
case " $* " in
  *" --reuse-db "* | *" -n 0 "* | *" -p no:xdist "*) ;;
  *)
    run_id=$(.venv/bin/python -c 'import uuid; print(uuid.uuid4().hex)')
    run_args=(--testrunuid "$run_id")
    template_log=$(mktemp)
    .venv/bin/python -m tests.template "$run_id" >"$template_log" 2>&1 &
    template_pid=$!
    ;;
esac

echo "== pytest"
status=0
.venv/bin/python -m pytest "${run_args[@]}" "$@" || status=$?
if [ -n "$template_pid" ] && ! wait "$template_pid"; then
  echo "== the template database was not made beside pytest (the workers made it):"
  cat "$template_log"
fi
checks_status=0
wait "$checks_pid" || checks_status=$?
cat "$checks_log"
[ "$status" != 0 ] || status=$checks_status
if [ -n "$audit_pid" ]; then
  audit_status=0
  wait "$audit_pid" || audit_status=$?
  cat "$audit_log"
  [ "$status" != 0 ] || status=$audit_status
fi
exit "$status"

# KAPCare: `make run` serves the demo with no services; `make test` runs every test on the real ones.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

TEST_WORKERS ?= auto

.PHONY: run test test-fast lint fmt venv venv-dev services worker beat clean bench audit drill screenshots

run: venv
	PORT=$(PORT) bash scripts/run.sh

# The audit mostly waits on the network, so it runs beside the suite; its report follows the suite's.
test: venv-dev
	bash scripts/ensure_services.sh
	KAPCARE_AUDIT_ALONGSIDE=1 bash scripts/test.sh -n $(TEST_WORKERS)

# The same suite on the test databases the previous run left (created afresh when missing): for local runs.
test-fast: venv-dev
	bash scripts/ensure_services.sh
	bash scripts/test.sh -n $(TEST_WORKERS) --reuse-db

# Known vulnerabilities in the pinned requirements fail; an unreachable vulnerability service only warns.
audit: venv-dev
	bash scripts/audit.sh

# gunicorn against seed_load's PostgreSQL, loaded by wrk: prints the table and writes bench/results.md.
bench: venv-dev
	bash scripts/ensure_services.sh
	bash scripts/bench.sh

# The reminder drills alone: real worker and beat processes on a throwaway Redis (never the shared one),
# a worker SIGKILLed mid-send, Redis restarted with tasks queued, two beats. Each prints
# planned/sent/lost/duplicated and fails unless lost = 0 and duplicated = 0. (`make test` runs them too.)
drill: venv-dev
	bash scripts/ensure_services.sh
	DJANGO_SETTINGS_MODULE=kapcare.settings.test REQUIRE_SERVICES=1 \
		$(PY) -m pytest tests/test_reminder_drills.py -s -p no:cacheprovider

# The README's screenshots: each role's main page at 360 and 1366 px, taken by the browser test that checks
# every page for sideways scrolling and axe-core violations, so they show what the tests saw.
screenshots: venv-dev
	bash scripts/ensure_services.sh
	KAPCARE_SCREENSHOTS=docs/screenshots DJANGO_SETTINGS_MODULE=kapcare.settings.test REQUIRE_SERVICES=1 \
		$(PY) -m pytest tests/test_pages_at_every_width.py -p no:cacheprovider -n 0

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

venv:
	@PYTHON=$(PYTHON) bash scripts/venv.sh requirements.txt

venv-dev:
	@PYTHON=$(PYTHON) bash scripts/venv.sh requirements-dev.txt

services:
	bash scripts/ensure_services.sh

# For a deployment without docker: one worker and one beat beside the web processes.
worker: venv
	$(VENV)/bin/celery -A kapcare worker --loglevel=INFO

beat: venv
	mkdir -p var
	$(VENV)/bin/celery -A kapcare beat --loglevel=INFO

clean:
	rm -rf var staticfiles .pytest_cache

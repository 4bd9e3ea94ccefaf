# KAPCare: `make run` serves the demo with no services; `make test` runs every test on the real ones.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint fmt venv venv-dev services worker beat clean

run: venv
	PORT=$(PORT) bash scripts/run.sh

test: venv-dev
	bash scripts/ensure_services.sh
	bash scripts/test.sh

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

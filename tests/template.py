"""`python -m tests.template RUN`: makes the test run's template database (tests/fixtures.py, `ensure_template`)
for the pytest run started with `--testrunuid RUN`. scripts/test.sh starts it beside pytest, so that migrating the
template (about 15 s) overlaps the workers' start and collection instead of holding both workers after them; a
worker that comes first makes the template itself, and this then finds it made."""

import sys

import django


def main(run):
    django.setup()
    from tests.fixtures import ensure_template

    ensure_template(run)


if __name__ == "__main__":
    main(sys.argv[1])

# Logicnet CRM: `make run` and `make test` work on a fresh machine with Python 3.11+ and a
# C compiler. Without DATABASE_URL / REDIS_URL they start embedded PostgreSQL and Redis.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test pytest bench screenshots lint format messages clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	$(PY) -m logicnet.stack run

test: $(VENV)/.installed
	$(PY) -m logicnet.stack test $(ARGS)

pytest: $(VENV)/.installed
	$(PY) -m logicnet.stack pytest $(ARGS)

# make bench: the benchmarks at their default sizes, under production settings (DEBUG off).
# BENCH picks them (bench: encryption and search; bench_crm: the CRM pages in-process;
# bench_http: the same pages over HTTP from gunicorn; bench_audit: concurrent audit-log
# writers; bench_privacy: identity match, access package and erasure of one person;
# bench_retention: the nightly retention sweep, the contacts list timed while it runs;
# bench_export: the contacts to a sealed CSV through the export job; bench_deals: the deals
# board, a deep column page and a move; bench_import: a 100,000-row CSV imported through the
# bulk write path into an organization holding --existing contacts, against
# django-import-export); ARGS go
# to each but bench_audit, e.g. ARGS="--contacts 1000000", and AUDIT_ARGS to bench_audit
# (it takes --seconds, --writers, --hold-ms, --previous-lock).
BENCH ?= bench bench_crm bench_http bench_audit bench_privacy bench_retention bench_export bench_deals bench_import
bench: $(VENV)/.installed
	$(PY) -m logicnet.stack bench -- sh -c '$(PY) manage.py migrate --no-input --verbosity 0 \
		&& for command in $(BENCH); do \
			if [ "$$command" = bench_audit ]; then args="$(AUDIT_ARGS)"; else args="$(ARGS)"; fi; \
			echo "== manage.py $$command $$args"; $(PY) manage.py $$command $$args || exit 1; done'

# make screenshots: the demo organization's main pages as each of its four roles sees them, at
# 1366 and 390 px, into screenshots/ (needs Debian's Chromium, as the browser tests do).
screenshots: $(VENV)/.installed
	$(PY) -m logicnet.stack pytest -- tests/browser/screenshots.py -q -s -p no:randomly

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

messages: $(VENV)/.installed
	$(PY) -m logicnet.stack exec -- $(PY) manage.py makemessages -l ro --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=tests
	$(PY) -m logicnet.stack exec -- $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles

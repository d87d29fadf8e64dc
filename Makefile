# The index of commands. The README's two commands: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/spyglass
HOST ?= 127.0.0.1:8000

.PHONY: install run serve migrate test test-sqlite test-postgres lint check bench hostile clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_starter_data

## make run: set up, migrate, load the starter data, serve at once, and scrape live sources in
## the background if online (progress on the About page, output in $(SCRAPE_LOG)); stopping
## the server stops the scrape too, and its run is marked interrupted.
SCRAPE_LOG ?= var/first-scrape.log
run: migrate
	@mkdir -p $(dir $(SCRAPE_LOG))
	@echo "first scrape (when online) runs in the background: progress on http://$(HOST)/about/, output in $(SCRAPE_LOG)"
	@$(PY) manage.py scrape_all --if-online >$(SCRAPE_LOG) 2>&1 & scrape=$$!; \
	trap 'kill -TERM $$scrape 2>/dev/null; wait $$scrape' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST)

serve: migrate
	$(PY) manage.py runserver $(HOST)

lint: install
	$(VENV)/bin/ruff check .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	SPYGLASS_PRODUCTION=1 SECRET_KEY=ci-only-$$(date +%s)-a-long-random-looking-secret-key-value \
	  ALLOWED_HOSTS=spyglass.example SECURE_HSTS_SECONDS=31536000 SECURE_SSL_REDIRECT=1 \
	  $(PY) manage.py check --deploy --fail-level WARNING

test-sqlite: install
	$(VENV)/bin/pytest -q --ignore=tests/hostile --ignore=tests/faults

## PostgreSQL pass: runs when the server answers; required (fails) when SPYGLASS_REQUIRE_SERVICES=1.
test-postgres: install
	@if $(PY) -m tests.support.services postgres "$(PG_TEST_URL)"; then \
	  DATABASE_URL="$(PG_TEST_URL)" $(VENV)/bin/pytest -q -m "not browser" \
	    --ignore=tests/hostile --ignore=tests/faults; \
	elif [ -n "$$SPYGLASS_REQUIRE_SERVICES" ]; then \
	  echo "PostgreSQL at $(PG_TEST_URL) is required but not reachable"; exit 1; \
	else echo "PostgreSQL not reachable at $(PG_TEST_URL): PostgreSQL pass skipped"; fi

## make hostile: hostile inputs and faults; prints the table, fails on any must-be-zero figure.
hostile: install
	$(PY) -m tests.hostile

## make test: lint, checks, the suite on SQLite and on PostgreSQL, then the hostile/fault suite.
test: lint check test-sqlite test-postgres hostile

bench: install
	$(PY) manage.py bench

clean:
	rm -rf $(VENV) var/*.sqlite3* staticfiles test-artifacts

# Everyday commands. `make run` and `make test` set everything up on a fresh
# machine: they create .venv and install the project into it first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Patron URLs carry the session token, so Daphne's access log is off unless
# ACCESS_LOG names a file (or - for the terminal).
ACCESS_LOG ?= /dev/null
# axe-core, the accessibility checker the browser tests inject into pages:
# fetched from the npm registry at a pinned version, never committed.
AXE_VERSION := 4.10.3
AXE_JS := .cache/axe-core-$(AXE_VERSION)/axe.min.js
# ESLint for static/js/: the exact versions are in package.json and
# package-lock.json; `npm ci` installs them from the npm registry into
# node_modules/ (git-ignored), never globally, never from a CDN.
NODE_STAMP := node_modules/.installed
# The translations (README, "Translations"): the .po catalogues are committed;
# the compiled .mo files Django reads are built from them (msgfmt, from GNU
# gettext), never committed.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: install run test lint jslint types format migrate seed clean axe screenshots faults bench bench-smoke messages translations

install: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	touch $@

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_demo_widget --host $(HOST) --demo-port $$(($(PORT) + 1))
	$(BIN)/python manage.py seed_demo_wrapup
	$(BIN)/python manage.py seed_demo_scripts
	$(BIN)/python manage.py seed_demo_history

# DEBUG is off unless the environment says DEBUG=true (development): the
# static files are then served by WhiteNoise from STATIC_ROOT, hashed and
# compressed, so they are collected first.
run: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py seed_demo_widget --if-empty --host $(HOST) --demo-port $$(($(PORT) + 1))
	$(BIN)/python manage.py seed_demo_wrapup --if-empty
	$(BIN)/python manage.py seed_demo_scripts --if-empty
	$(BIN)/python manage.py seed_demo_history --if-empty
	@echo
	@echo "Reference Chat is at http://$(HOST):$(PORT)/"
	@echo "  Patrons ask at      http://$(HOST):$(PORT)/ask/"
	@echo "  Librarians log in   http://$(HOST):$(PORT)/login/   alice, bob, carol, erin"
	@echo "  Supervisors use     http://$(HOST):$(PORT)/admin/   supervisor (also the console: Live Sessions, Statistics)"
	@echo "  The widget's demo   http://$(HOST):$$(($(PORT) + 1))/   a library site on another origin"
	@echo "  Demo password: demo-pass-2026 (unless you seeded with --password)"
	@echo "  Emails (transcripts) are written to var/mail/ by the worker"
	@echo "  Daphne and the worker run together; Ctrl-C stops both."
	@echo
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT) --access-log $(ACCESS_LOG)

# Extract every text marked for translation into locale/*/LC_MESSAGES/*.po
# (new texts get an empty translation, gone ones are dropped), then compile.
# Translate what is new (README, "Translations") and commit locale/.
messages: $(VENV)/.installed
	$(BIN)/python manage.py messages
	$(MAKE) translations

translations: $(MO_FILES)

%.mo: %.po
	@command -v msgfmt > /dev/null || { echo "msgfmt not found: install GNU gettext (apt-get install gettext)"; exit 1; }
	msgfmt --check-format -o $@ $<

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Types: mypy with django-stubs and djangorestframework-stubs (pyproject.toml).
types: install
	$(BIN)/mypy .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The browser tests (tests/browser/) run when Debian's Chromium is installed
# (/usr/bin/chromium); without it pytest's summary lists them as skipped.
test: lint jslint types axe
	$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null
	$(BIN)/pytest

# Without npm the lint is skipped, as the accessibility checks are, except in
# CI (CI=true), which runs every check or fails.
jslint: $(NODE_STAMP)
	@if [ -e $(NODE_STAMP) ]; then node_modules/.bin/eslint static/js static/widget eslint.config.js; fi

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm > /dev/null; then \
	  npm ci --silent --no-audit --no-fund && touch $@; \
	elif [ -n "$$CI" ]; then \
	  echo "npm not found: CI cannot run the JavaScript lint"; exit 1; \
	else \
	  echo "npm not found: the JavaScript lint (eslint) is skipped"; \
	fi

axe: $(AXE_JS)

$(AXE_JS):
	@if command -v npm > /dev/null; then \
	  mkdir -p $(@D) && cd $(@D) && \
	  npm pack --silent axe-core@$(AXE_VERSION) > /dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js && \
	  rm axe-core-$(AXE_VERSION).tgz; \
	else \
	  echo "npm not found: the browser tests' accessibility checks will be skipped"; \
	fi

# The fault suite (docs/faults.md): its own PostgreSQL database (needs the
# server on 127.0.0.1:5432), its own redis-server and Daphne processes; kills
# and restarts them while patrons and librarians talk. About a minute.
faults: install
	$(BIN)/python -m faults.run

# The load benchmark (docs/performance.md): its own PostgreSQL database, Redis
# and Daphne processes, 1,000 patrons and 100 librarian consoles beside the
# bare Channels relay; prints a table, the targets held or missed, and a JSON
# line. About ten minutes. Options: make bench BENCH_ARGS="--processes 2".
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# A tiny load that keeps the benchmark's harness working (CI runs it).
bench-smoke: install
	$(BIN)/python -m bench --smoke

# Run the browser tests and write their screenshots to docs/screenshots/
# (README shows some); other runs write them under var/screenshots/.
screenshots: install axe
	SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q tests/browser

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .cache node_modules

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

.PHONY: install run test lint format migrate seed clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	touch $@

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: migrate
	$(BIN)/python manage.py seed_demo --if-empty
	@echo
	@echo "Reference Chat is at http://$(HOST):$(PORT)/"
	@echo "  Patrons ask at      http://$(HOST):$(PORT)/ask/"
	@echo "  Librarians log in   http://$(HOST):$(PORT)/login/   alice, bob, carol"
	@echo "  Supervisors use     http://$(HOST):$(PORT)/admin/   supervisor"
	@echo "  Demo password: demo-pass-2026 (unless you seeded with --password)"
	@echo "  Emails (transcripts) are written to var/mail/"
	@echo
	$(BIN)/daphne -b $(HOST) -p $(PORT) --access-log $(ACCESS_LOG) reference_chat.asgi:application

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache

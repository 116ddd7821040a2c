# AdvisorOS. `make run` serves the app with demo data; `make test` runs the suite.
# Both install what is missing. With no DATABASE_URL they use an embedded
# PostgreSQL under var/ (scripts/devdb.py), started and stopped around the command.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

# A Python 3.12+ interpreter: pyenv's, then python3.13/3.12, then python3.
PYTHON_BOOT := $(shell \
  for c in "$$(pyenv root 2>/dev/null)/versions/$$(cat .python-version 2>/dev/null)/bin/python" \
           python3.13 python3.12 python3; do \
    if command -v "$$c" >/dev/null 2>&1 && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
      command -v "$$c"; break; fi; done)

# The Debian packages (scripts/debian-packages.txt) are checked with any python3:
# scripts/syspkgs.py needs only the standard library, and runs before anything else.
SYSPY := $(or $(PYTHON_BOOT),python3)

.PHONY: run test prod prod-smoke doctor system-run system-test bench bench-search lint check-deploy clean-db help

help:
	@echo "make run   - install, migrate, seed the demo firm, serve on http://127.0.0.1:$(PORT)/ with the workers"
	@echo "make test  - install and run the whole test suite"
	@echo "make prod  - the production shape on loopback: gunicorn, workers on Redis, S3 (moto), DEBUG off"
	@echo "make prod-smoke - start the production shape, sign in, upload, OCR, search, download, stop"
	@echo "make bench - seed the bench firms (first run only) and measure the pages: var/bench/results.json"
	@echo "make doctor - check every part AdvisorOS needs and say what to do"
	@echo "make lint  - ruff check and format check"

# Missing Debian packages: installed when root with apt, else one message naming
# them and the exact command (before anything else is done).
system-run:
	@$(SYSPY) scripts/syspkgs.py ensure run

system-test:
	@$(SYSPY) scripts/syspkgs.py ensure test

$(STAMP): requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON_BOOT)" ]; then \
	  echo "AdvisorOS needs Python 3.12 or newer (Django 6). Install it (pyenv install 3.12.1," \
	       "or your system's python3.12 package) and run make again." >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: system-run $(STAMP) .env
	PORT=$(PORT) $(PY) scripts/devdb.py exec -- $(PY) scripts/serve.py

test: system-test $(STAMP) .env
	$(PY) scripts/devdb.py exec -- $(PY) -m pytest $(PYTEST_ARGS)

# The production shape (scripts/prod.py, docs/production.md): gunicorn, both
# worker clusters on Redis, S3 on loopback (moto), DEBUG off, on a database made
# afresh (advisoros_prod in the embedded server), or DATABASE_URL's as it is.
# Uses moto from the development requirements, hence the test packages.
PROD_DB := ADVISOROS_DEVDB_NAME=advisoros_prod ADVISOROS_DEVDB_FRESH=1
prod: system-test $(STAMP) .env
	$(PROD_DB) $(PY) scripts/devdb.py exec -- $(PY) scripts/prod.py --port $(PORT)

# Starts it on a free port, drives it over HTTP (scripts/prod_smoke.py), stops
# everything; bounded: whatever happens, all is stopped after 15 minutes.
prod-smoke: system-test $(STAMP) .env
	$(PROD_DB) timeout --kill-after=60 900 \
	  $(PY) scripts/devdb.py exec -- $(PY) scripts/prod.py --smoke

# Server-side timings of the main pages at 1,000 and 100,000 clients, each beside
# Django's floor (bench/harness.py). The first run seeds the firms bench-1k and
# bench-100k (a minute or two); later runs reuse them. BENCH_ARGS='--only client_list'
# picks scenarios. BENCH=true installs the development-only bench app.
bench: $(STAMP)
	BENCH=true DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) scripts/devdb.py exec -- sh -c \
	  '$(PY) manage.py migrate --no-input && $(PY) manage.py run_bench $(BENCH_ARGS)'

# Full-text search at a million documents (bench/documents_seed.py): the first run
# seeds them (about 20 minutes and 5 GB of disk), later runs only measure.
bench-search: $(STAMP)
	BENCH=true DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) scripts/devdb.py exec -- sh -c \
	  '$(PY) manage.py migrate --no-input && $(PY) manage.py seed_bench_documents && \
	   $(PY) manage.py run_bench --no-pages --only document_search'

# Each part (Python, PostgreSQL, tesseract, libmagic, Chromium, worker, email,
# storage) with OK or what to do. `make run` runs the same checks first.
doctor: $(STAMP) .env
	@$(PY) scripts/devdb.py exec -- $(PY) manage.py doctor

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The production check: DEBUG off with production-like values.
# Development settings for this checkout (git-ignored): DEBUG on, console email.
# Production sets its environment instead and never has this file.
.env:
	cp .env.example .env
	@echo "Created .env from .env.example (development settings)."

# The checks read the database server's version (generated columns), so they run
# against the real database, as in production.
check-deploy: $(STAMP)
	$(PY) scripts/devdb.py exec -- env DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=advisoros.example.com \
	EMAIL_URL=smtp+tls://mailer:secret@smtp.example.com:587 \
	CACHE_URL=redis://cache.example.com:6379/1 \
	FIELD_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	$(PY) manage.py check --deploy --fail-level WARNING

clean-db:
	$(PY) scripts/devdb.py stop
	rm -rf var/pg var/db.env

# Jixiao — the two everyday commands are `make run` and `make test` (see README.md).
# Every target builds the virtualenv first, so a fresh clone needs nothing but python3.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt only when a requirements file changes (or the venv is missing).
STAMP := $(VENV)/.requirements.stamp
MANAGE := $(BIN)/python manage.py
# pytest reads DJANGO_SETTINGS_MODULE from the environment before pyproject.toml; pin it
# so a developer's exported dev/prod setting never leaks into a test run.
PYTEST := $(BIN)/pytest --ds=config.settings.test
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k audit -x"`; .ci/run adds -ra --durations.
PYTEST_ARGS ?=
# The whole suite runs on this many processes (pytest-xdist; each has its own test
# database). The concurrency and cross-process tests always run in one process.
PYTEST_WORKERS ?= 2
TEST_SETTINGS := DJANGO_SETTINGS_MODULE=config.settings.test

# System packages are installed with apt when missing; root needs no sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
APT_UPDATE := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: help venv run test lint format test-servers system-deps browser-deps clean

help:
	@echo "make run           build the venv, migrate, load demo data, serve http://127.0.0.1:8000/"
	@echo "make test          the whole suite on SQLite (browser tests included), migration check, ruff (lint + format), mypy"
	@echo "make lint          ruff check + mypy + ruff format --check + import contracts (lint-imports)"
	@echo "make format        ruff format + ruff check --fix"
	@echo "make test-servers  the suite against PostgreSQL and Redis (needs DATABASE_URL, REDIS_URL; see .ci/run)"
	@echo "make test-production  production (PostgreSQL, Redis, 2 daphne, worker, beat) under faults: tests/production"
	@echo "make prod          production on this machine: release steps, then web × WEB_PROCESSES, worker, beat (scripts/prod-up)"
	@echo "make venv          just (re)build .venv when a requirements file changed"
	@echo "make bench         the benchmarks at district scale (SQLite; PostgreSQL/Redis with DATABASE_URL/REDIS_URL): table + bench/results/*.json"
	@echo "make bench-smoke   every benchmark at a tiny size, in seconds (CI runs it; see docs/performance.md)"
	@echo "make profile       where a completion's and the list pages' CPU goes (cProfile): bench/results/profiles/"
	@echo "make bench-city    the city scale (41,000 projects, 1,000,000 tasks; opt-in, a quiet machine; issue 20)"
	@echo "make fuzz          schemathesis over every API operation as three roles (also part of make test)"
	@echo "make test-deep     the lifecycles' stateful test at 1,000 examples (make test runs 200; .ci/run runs this)"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -x $(BIN)/python ]; then \
	  $(PYTHON) -m venv $(VENV) || { \
	    echo "venv failed; installing python3-venv (Debian ships ensurepip separately)"; \
	    rm -rf $(VENV); $(APT_UPDATE) && $(APT_INSTALL) python3-venv && $(PYTHON) -m venv $(VENV); }; \
	fi
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The repository commits the compiled .mo files; recompile only when msgfmt is there.
run: venv
	@if command -v msgfmt >/dev/null; then \
	  $(MANAGE) compilemessages --ignore=.venv --ignore=var; \
	else echo "msgfmt not found: using the committed .mo files"; fi
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) runserver 127.0.0.1:8000

# The system packages the suite needs, installed with apt when missing (a new machine has
# only its image's): Debian's chromium, which the browser tests drive through Playwright (no
# Playwright download), and Graphviz's `dot`, which draws the lifecycle diagrams
# (manage.py lifecycle_diagram and its tests), and a Chinese font (WenQuanYi Micro Hei) so
# that the layout tests measure the header and tables at the widths people see.
SYSTEM_DEPS := /usr/bin/chromium:chromium /usr/bin/dot:graphviz /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei
system-deps:
	@missing=""; for dep in $(SYSTEM_DEPS); do \
	  [ -e "$${dep%%:*}" ] || missing="$$missing $${dep##*:}"; \
	done; \
	if [ -n "$$missing" ]; then $(APT_UPDATE) && $(APT_INSTALL) $$missing; fi
browser-deps: system-deps

# Runs all four checks even when one fails, then fails if any did. pytest's exit code 5
# ("no tests collected") is a failure like any other non-zero code.
test: venv system-deps
	@failed=""; \
	echo "--- ruff check, ruff format --check"; \
	$(BIN)/ruff check . || failed="$$failed ruff"; \
	$(BIN)/ruff format --check . || failed="$$failed ruff-format"; \
	echo "--- mypy"; \
	$(BIN)/mypy || failed="$$failed mypy"; \
	echo "--- makemigrations --check"; \
	$(TEST_SETTINGS) $(MANAGE) makemigrations --check --dry-run || failed="$$failed migrations"; \
	echo "--- pytest -m 'not postgres and not redis and not production'"; \
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not postgres and not redis and not production" $(PYTEST_ARGS) || failed="$$failed pytest"; \
	if [ -n "$$failed" ]; then echo "make test FAILED:$$failed"; exit 1; fi; \
	echo "make test: all passed"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo  # the import direction: [tool.importlinter] in pyproject.toml

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Against real servers (.ci/run starts them and exports the URLs). First the tests that
# exist for these servers (concurrency, channel layer across processes), then the rest
# of the suite on PostgreSQL + Redis. Left out here to keep CI within its time, because
# `make test` ran them and the database cannot change their outcome: the browser tests;
# the screen tests (page rendering — their reads go through the selectors and services
# the API, process and workflow tests run here); and the tests that touch no database
# (catalogs, pure scoring and reminder rules, the embedded SQLite dev server and its
# writers' queue, which use SQLite files of their own). The API fuzzing (marker fuzz, a
# few minutes) runs in `make test`: its findings are input validation and schema, which
# the database does not change. The lifecycles' stateful test (random people through the
# services: 200 examples in make test, 1,000 in test-deep) runs twice on SQLite; on PostgreSQL its
# every step is already run by the process, visibility and race tests.
SERVER_SUITE_SKIP := --ignore=tests/screens --ignore=tests/test_i18n.py \
	--ignore=tests/processes/test_lifecycles_stateful.py \
	--ignore=tests/processes/test_scoring.py --ignore=tests/processes/test_reminder_rules.py \
	--ignore=tests/infra/test_dev_server.py --ignore=tests/infra/test_sqlite_writers.py \
	--ignore=tests/api/test_fuzz.py
test-servers: venv
	@case "$${DATABASE_URL:-}" in postgres://*|postgresql://*) ;; \
	  *) echo "test-servers: DATABASE_URL must name a PostgreSQL server (bash .ci/run sets it)"; exit 2;; esac
	@case "$${REDIS_URL:-}" in redis://*) ;; \
	  *) echo "test-servers: REDIS_URL must name a Redis server (bash .ci/run sets it)"; exit 2;; esac
	@failed=""; \
	echo "--- pytest -m '(postgres or redis) and not production'"; \
	$(PYTEST) -m "(postgres or redis) and not production" $(PYTEST_ARGS) || failed="$$failed server-tests"; \
	echo "--- pytest -m 'not postgres and not redis and not browser and not production' $(SERVER_SUITE_SKIP) (on PostgreSQL + Redis)"; \
	$(PYTEST) -n $(PYTEST_WORKERS) -m "not postgres and not redis and not browser and not production" $(SERVER_SUITE_SKIP) $(PYTEST_ARGS) || failed="$$failed suite"; \
	if [ -n "$$failed" ]; then echo "make test-servers FAILED:$$failed"; exit 1; fi; \
	echo "make test-servers: all passed"

# The lifecycles' hypothesis stateful test at 1,000 examples (make test runs it at 200):
# tests/processes/test_lifecycles_stateful.py; .ci/run runs it after make test.
.PHONY: test-deep
test-deep: venv
	JIXIAO_TEST_DEEP=1 $(PYTEST) -p no:xdist -m deep tests/processes/test_lifecycles_stateful.py $(PYTEST_ARGS)

# API fuzzing alone (decision 0014): schemathesis over every operation of /api/schema/ as
# department staff, finance officer and agency, FUZZ_EXAMPLES (default 6) per operation,
# derandomized. `make test` runs it too, with the suite (marker fuzz).
.PHONY: fuzz
fuzz: venv
	$(PYTEST) -p no:xdist -m fuzz tests/api/test_fuzz.py $(PYTEST_ARGS)

# Production (docs/operations.md). `make prod`: one command, the servers, the release
# steps, then the Procfile under honcho. `make test-production`: the topology under faults
# (tests/production; each test prints its figures); it starts a private PostgreSQL 15 and
# Redis of its own on free ports, so it needs their packages, not running servers.
.PHONY: prod test-production production-deps
prod:
	scripts/prod-up

production-deps:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || ! command -v redis-server >/dev/null; then \
	  $(APT_UPDATE) && $(APT_INSTALL) postgresql-15 redis-server; fi

test-production: venv production-deps
	$(PYTEST) -p no:xdist -m production tests/production $(PYTEST_ARGS)

# Benchmarks (docs/performance.md): each on a throwaway database of its own, never db.sqlite3.
# Extra arguments, e.g. `make bench BENCH_ARGS="--only campaign,lists"`.
BENCH_ARGS ?=
.PHONY: bench bench-smoke bench-city
bench: venv
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smoke: venv
	$(BIN)/python -m bench.run --smoke $(BENCH_ARGS)

# Where the CPU goes (issue 20): bench/results/profiles/, e.g. `make profile PROFILE_ARGS="--smoke"`.
PROFILE_ARGS ?=
.PHONY: profile
profile: venv
	$(BIN)/python -m bench.profile $(PROFILE_ARGS)

.PHONY: bench-city
bench-city: venv
	$(BIN)/python -m bench.run --only city $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var test-results

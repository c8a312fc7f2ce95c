# email_service — the two commands: `make run` (everything on embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := dovecot-imapd dovecot-pop3d mailutils-imap4d
PYTEST_ARGS ?=

.PHONY: docker-check run test lint typecheck pytest pytest-postgresql pytest-sqlite system-deps venv clean bench bench-deps reliability

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# Real servers the integration tests start privately: Dovecot (IMAP, and POP3 from dovecot-pop3d), GNU Mailutils imap4d (a second IMAP
# server, one whose UID SEARCH answers too little) and, when no PostgreSQL answers on 127.0.0.1:5432, a
# PostgreSQL to run a private cluster from. Installed only when missing and root.
system-deps:
	@missing=""; \
	command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	[ -x /usr/lib/dovecot/pop3 ] || [ -x /usr/libexec/dovecot/pop3 ] || missing="$$missing dovecot-pop3d"; \
	command -v imap4d >/dev/null 2>&1 || [ -x /usr/sbin/imap4d ] || missing="$$missing mailutils-imap4d"; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then missing="$$missing postgresql"; fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (run as root or install them)"; exit 1; fi; \
	fi

lint: venv
	$(VENV)/bin/ruff check services tests bench
	$(VENV)/bin/ruff format --check services tests bench

typecheck: venv
	$(VENV)/bin/mypy services/email_service

# Every flow runs on both backends: PostgreSQL with row-level security (the whole suite), then the
# embedded default of `make run`, SQLite with the embedded Redis (the suites that use a database;
# tests marked pg_only are deselected there, never skipped).
SQLITE_SUITES := tests/integration tests/hostile tests/e2e tests/reliability/test_push_faults.py

pytest: pytest-postgresql pytest-sqlite

pytest-postgresql: venv system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

pytest-sqlite: venv system-deps
	TEST_DB_BACKEND=sqlite $(VENV)/bin/pytest $(PYTEST_ARGS) $(SQLITE_SUITES)

test: lint typecheck pytest

# Fault injection on real servers plus the secrets audit (leaks), then the hostile-load attacks of issue 16;
# `make test` runs all of them inside pytest. Prints one line per scenario, then {"scenarios": N, "passed": N,
# "lost": 0, "duplicated": 0, "leaks": 0}; one line per attack with its figure and bound, then
# {"attacks": N, "within_bound": N}.
ATTACK_TESTS := tests/hostile tests/unit/mail/test_sanitize_linear.py tests/integration/sync/test_sync_dedupe.py \
	tests/integration/sending/test_send_schedule.py tests/integration/core/test_rate_limits.py \
	tests/integration/sending/test_upload_quota.py tests/e2e/test_tenant_fairness.py
reliability: venv system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/reliability tests/integration/core/test_secrets_audit.py \
	  $(ATTACK_TESTS)

# The image on a real engine (tests/docker/, outside pyproject's testpaths): both builders, every role
# healthy, the compose Dovecot restarted. Ends with `docker-check {"build_seconds": ..., "image_size_mb": ...}`.
docker-check: venv system-deps
	$(VENV)/bin/pytest -q -p no:cacheprovider --timeout=3600 --tb=short tests/docker

run: venv
	$(PY) -m email_service.devserver

# wrk drives the API bench (a Python load client saturates below what gunicorn serves).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing: wrk"; export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; \
	  else echo "missing system package: wrk (run as root or install it)"; exit 1; fi; }

bench: venv system-deps bench-deps
	$(PY) bench/sync_bench.py --messages 10000 --size 5000
	$(PY) bench/api_bench.py --runs 5
	$(PY) bench/api_bench.py --runs 5 --messages 100000 --paths message_list,search

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

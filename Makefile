# Run `make demo` then `make test` on a fresh machine; both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_SYSTEM_CERTS := 1
PY := .venv/bin/python
UV = $(shell bash scripts/bootstrap.sh)
PYTEST_ARGS ?=

.PHONY: help venv testbed images services demo test test-unit lint bench stop status dist \
	compose-up compose-down compose-test

help:
	@echo "make demo      start the local stack and run the crawler DAG end to end"
	@echo "make test      lint, start the test bed, run every test"
	@echo "make services  start the test bed and the stack (Airflow at http://127.0.0.1:8080)"
	@echo "make images    build the task images"
	@echo "make bench     run the benchmarks (prints figures)"
	@echo "make lint      ruff and mypy"
	@echo "make dist      a wheel of every workspace package in dist/"
	@echo "make stop      stop what the test bed and the stack started"
	@echo "make compose-up / compose-down   the whole system in docker-compose"

venv:
	@bash scripts/bootstrap.sh >/dev/null

testbed:
	@bash scripts/testbed.sh start

images: venv testbed
	@UV=$(UV) bash scripts/build_images.sh

services: venv testbed images
	@$(PY) scripts/stack.py start
	@bash scripts/testbed.sh status
	@$(PY) scripts/stack.py status

demo: services
	@$(PY) scripts/demo.py

dist: venv
	@UV=$(UV) bash scripts/build_dist.sh dist

lint: venv
	@.venv/bin/ruff check .
	@.venv/bin/mypy

test: lint services
	@.venv/bin/pytest $(PYTEST_ARGS)

test-unit: venv
	@.venv/bin/pytest tests/unit $(PYTEST_ARGS)

bench: services
	@for b in bench/heartbeat_api.py bench/e2e_overhead.py bench/crawler.py bench/api.py bench/database.py; do \
	  [ -f $$b ] || continue; echo "== $$b"; $(PY) $$b || exit 1; done

status:
	@bash scripts/testbed.sh status
	@[ ! -x $(PY) ] || $(PY) scripts/stack.py status

stop:
	@[ ! -x $(PY) ] || $(PY) scripts/stack.py stop
	@bash scripts/testbed.sh stop

compose-up: venv
	@UV=$(UV) bash scripts/compose.sh up

compose-down:
	@bash scripts/compose.sh down

compose-test: venv
	@UV=$(UV) bash scripts/compose.sh test
